/**
 * Whose failures count together (pure): the client address Cloudflare puts in
 * CF-Connecting-IP. An IPv6 client usually holds a whole /64, so its failures count
 * per /64; without the header (wrangler dev, tests) every caller shares one key.
 */
export const LOCAL_KEY = "local";
const MAX_KEY_LENGTH = 64;

const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;

/** The eight hextets of an IPv6 address (also with a dotted IPv4 tail), or null when it is not one. */
function hextets(address: string): number[] | null {
  let text = address;
  const tail: string[] = [];
  const v4 = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4) {
    const [a = 256, b = 256, c = 256, d = 256] = v4.slice(2).map(Number);
    if (Math.max(a, b, c, d) > 255) return null;
    tail.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
    const prefix = v4[1] ?? "";
    text = prefix.endsWith("::") ? prefix : prefix.slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const split = (part: string | undefined) => (part ? part.split(":") : []);
  const head = split(halves[0]);
  const rest = [...split(halves[1]), ...tail];
  const zeros = 8 - head.length - rest.length;
  if (halves.length === 1 ? zeros !== 0 : zeros < 1) return null;
  const groups = [...head, ...Array<string>(zeros).fill("0"), ...rest];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return null;
  return groups.map((group) => Number.parseInt(group, 16));
}

/** The key an address's failures are counted under. */
export function clientKey(header: string | undefined): string {
  const address = (header ?? "").trim().toLowerCase();
  if (address === "") return LOCAL_KEY;
  if (IPV4.test(address)) return address;
  // An IPv4 client written as IPv6 is still that one IPv4 address, not a /64 shared by all of them.
  const mapped = /^::ffff:((?:\d{1,3}\.){3}\d{1,3})$/.exec(address)?.[1];
  if (mapped) return mapped;
  const groups = address.includes(":") ? hextets(address) : null;
  if (groups)
    return `${groups
      .slice(0, 4)
      .map((group) => group.toString(16))
      .join(":")}::/64`;
  // Not an address Cloudflare would send; still one key per value, bounded.
  return address.slice(0, MAX_KEY_LENGTH);
}

/** Asking for a secret on the terminal without echoing it (stdin in raw mode), and making one up. */
import { randomBytes } from "node:crypto";

export const interactive = (): boolean => Boolean(process.stdin.isTTY && process.stdout.isTTY);

/** Reads one line from the terminal, showing `*` for each character. Ctrl-C aborts. */
export function askSecret(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stdout.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let value = "";
    const done = (result: string | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stdout.write("\n");
      if (result === null) reject(new Error("cancelled"));
      else resolve(result);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") return done(value);
        if (char === "\u0003") return done(null);
        if (char === "\u007f" || char === "\b") {
          if (value.length > 0) {
            value = value.slice(0, -1);
            process.stdout.write("\b \b");
          }
        } else if (char >= " ") {
          value += char;
          process.stdout.write("*");
        }
      }
    };
    stdin.on("data", onData);
  });
}

/** A random secret: 32 bytes, base64url (43 characters, safe in any header). */
export function generateSecret(): string {
  return randomBytes(32).toString("base64url");
}

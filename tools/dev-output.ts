/**
 * What `npm run dev` passes on from `wrangler dev`'s output, line by line. Pure: lines
 * in, lines out. Drops only what is expected and repeated: a bindings table identical
 * to the one already printed (wrangler prints it again once the server is up), the
 * warning that the cron is not triggered (dev-server.ts triggers it), and the request
 * log lines of those cron calls. Everything else, above all errors, passes unchanged.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the colour codes wrangler writes.
const ANSI_CODES = /\u001b\[[0-9;]*[A-Za-z]/g;
/** The text without terminal colour codes. (No node:util here: the tests run this file in workerd.) */
const plainText = (line: string): string => line.replace(ANSI_CODES, "");

const BINDINGS_HEADER = "Your Worker has access to the following bindings:";
const CRON_WARNING = "Scheduled Workers are not automatically triggered during local development.";
/** Wrangler's warning ends with this line; the guard stops a changed format from swallowing output. */
const CRON_WARNING_LAST = "For more details, see";
const CRON_WARNING_MAX_LINES = 8;
export const CRON_PATH = "/cdn-cgi/local/scheduled";

export class DevOutputFilter {
  private printedBindings: string | null = null;
  private bindings: string[] | null = null;
  private skippingWarning = 0;
  private afterWarning = false;

  /** The lines to print for one line of wrangler's output (none, that line, or a held block). */
  push(line: string): string[] {
    const plain = plainText(line).trim();
    if (this.bindings) {
      this.bindings.push(line);
      return plain === "" ? this.endBindings() : [];
    }
    if (plain.endsWith(BINDINGS_HEADER)) {
      this.bindings = [line];
      return [];
    }
    if (this.skippingWarning > 0) {
      this.skippingWarning -= 1;
      if (plain.startsWith(CRON_WARNING_LAST)) {
        this.skippingWarning = 0;
        this.afterWarning = true;
      }
      return [];
    }
    if (plain.includes(CRON_WARNING)) {
      this.skippingWarning = CRON_WARNING_MAX_LINES;
      return [];
    }
    if (this.afterWarning && plain === "") return [];
    this.afterWarning = false;
    if (plain.includes(` ${CRON_PATH}`) && /\b200\b/.test(plain)) return [];
    return [line];
  }

  /** Whatever is still held back when the output ends. */
  flush(): string[] {
    return this.bindings ? this.endBindings() : [];
  }

  private endBindings(): string[] {
    const block = this.bindings ?? [];
    this.bindings = null;
    const text = block.map((line) => plainText(line)).join("\n");
    if (text === this.printedBindings) return [];
    this.printedBindings = text;
    return block;
  }
}

/**
 * `npm run catcher -- [--port <n>]`: a local receiver for workflow actions. Prints each
 * request it gets (method, path, the headers worth seeing, the body) and answers as a
 * Slack incoming webhook does: 200, `ok`. With .dev.vars.example's values, the example
 * workflows' Slack messages and pages land here, so every branch can be seen working.
 * Listens on 127.0.0.1 only.
 */
import { createServer, type IncomingMessage } from "node:http";
import { parseCli, portOption, printedHelp, runCli } from "./cli/args";

const DEFAULT_PORT = 8788;
const HELP = `Local receiver for Slack and http actions: prints each request, answers 200 "ok" as Slack does.

Usage: npm run catcher -- [--port <n>]

  --port <n>   port on 127.0.0.1 (default $CATCHER_PORT, else ${DEFAULT_PORT})
  -h, --help   this text

Moving it: CATCHER_PORT=8798 npm run catcher, and in .dev.vars set
CATCHER_URL="http://127.0.0.1:8798" (the examples' pager URL follows it) and
SLACK_WEBHOOK_URL="http://127.0.0.1:8798/slack"; restart npm run dev, then
CATCHER_PORT=8798 npm run workflows:load.`;

/** Headers that tell a reader something; the rest (host, content-length, …) is noise here. */
const SHOWN_HEADERS = ["content-type", "authorization", "idempotency-key", "user-agent"];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

/** The body pretty-printed when it is JSON, as sent otherwise. */
function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch (err) {
    if (err instanceof SyntaxError) return body;
    throw err;
  }
}

function main(argv: string[]): number | undefined {
  const { values } = parseCli(argv, { port: { type: "string" } });
  if (printedHelp(values, HELP)) return 0;
  const port = portOption(values.port, "port", process.env.CATCHER_PORT, DEFAULT_PORT);

  let count = 0;
  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        count += 1;
        const headers = SHOWN_HEADERS.filter((name) => req.headers[name] !== undefined)
          .map((name) => `  ${name}: ${String(req.headers[name])}`)
          .join("\n");
        console.log(`\n#${count} ${new Date().toISOString()}  ${req.method} ${req.url}\n${headers}`);
        if (body) console.log(pretty(body));
        res.writeHead(200, { "content-type": "text/html" }).end("ok");
      },
      (err: unknown) => {
        console.error(`#${count + 1} could not read the request: ${err instanceof Error ? err.message : String(err)}`);
        res.writeHead(400).end("bad request");
      },
    );
  });
  server.on("error", (err) => {
    console.error(`error: cannot listen on 127.0.0.1:${port}: ${err.message}`);
    process.exitCode = 1;
  });
  server.listen(port, "127.0.0.1", () => {
    console.log(
      `Catching requests on http://127.0.0.1:${port}/ (answers 200 "ok", like a Slack incoming webhook). Ctrl-C stops.`,
    );
  });
  return undefined;
}

runCli(HELP, main);

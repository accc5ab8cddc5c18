/**
 * `/workflows`: the list; `/workflows/new`: create from an example or from scratch;
 * `/workflows/:id`: diagram, switches and versions; `/workflows/:id/edit`: a new version;
 * `/workflows/:id/versions/:v`: one version and its diff from the one before.
 * Saving and switching go through the admin API (api-client.ts).
 */
import { diffLines } from "diff";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { createDb } from "../../db/client";
import { workflowActivity } from "../../db/dashboard";
import { getVersion, getWorkflow, listVersions, listWorkflows } from "../../db/workflows";
import { AppError } from "../../errors";
import { withCatcherUrl } from "../../workflows/catcher-url";
import { formatDelay } from "../../workflows/lateness";
import { parseDefinition } from "../../workflows/validate";
import { apiErrorMessage, callApi } from "../api-client";
import type { DashboardEnv } from "../auth";
import { Empty, Time } from "../components";
import { checkDefinitionText } from "../definition-problems";
import { describePredicate, describeTypes } from "../diagram/describe";
import { layoutWorkflow } from "../diagram/layout";
import { DiagramSvg } from "../diagram/svg";
import { BLANK_DEFINITION, EXAMPLES } from "../examples";
import { relativeTime } from "../format";
import { Layout } from "../layout";
import { link } from "../link";
import { Filter, readForm } from "../query";
import { dryRunAgainst, type EditorState, renderEditor } from "./editor";

const EditorForm = z.object({
  // Browsers submit a textarea's line breaks as CRLF; the problems' offsets must count what the textarea holds.
  definition: z
    .string()
    .max(200_000)
    .transform((text) => text.replaceAll("\r\n", "\n")),
  intent: z.enum(["save", "validate", "test"]),
  triggerUuid: Filter,
  resumeUuid: Filter,
});

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

async function storedDefinition(c: Context<DashboardEnv>, id: string, version: number) {
  const row = await getVersion(createDb(c.env.DB), id, version);
  const parsed = parseDefinition(row?.definition);
  if (!row || !parsed.ok) throw new AppError(404, "not_found", `workflow ${id} has no readable version ${version}`);
  return { definition: parsed.definition, createdAt: row.createdAt };
}

async function requireWorkflow(c: Context<DashboardEnv>, id: string) {
  const workflow = await getWorkflow(createDb(c.env.DB), id);
  if (!workflow) throw new AppError(404, "not_found", `no workflow ${id}`);
  return workflow;
}

/** Handles an editor post: validate, dry-run, or save through the API (then `onSaved` says where to go). */
async function handleEditorPost(
  c: Context<DashboardEnv>,
  base: Omit<EditorState, "text">,
  workflowId: string,
  save: (definition: unknown) => Promise<{ status: number; body: unknown }>,
  savedLocation: (body: unknown) => string,
) {
  const form = await readForm(c, EditorForm);
  const state: EditorState = { ...base, text: form.definition };
  const checked = checkDefinitionText(form.definition);
  if (!checked.ok) return renderEditor(c, { ...state, problems: checked.problems });
  if (form.intent === "validate") return renderEditor(c, { ...state, valid: checked.definition });
  if (form.intent === "test") {
    if (!form.triggerUuid) return renderEditor(c, { ...state, saveError: "Choose a trigger event for the dry run." });
    const run = await dryRunAgainst(c, checked.definition, workflowId, form.triggerUuid, form.resumeUuid);
    if ("error" in run) return renderEditor(c, { ...state, saveError: run.error });
    return renderEditor(c, { ...state, valid: checked.definition, dryRun: run });
  }
  const answer = await save(JSON.parse(form.definition));
  if (answer.status !== 200 && answer.status !== 201) {
    return renderEditor(c, { ...state, saveError: apiErrorMessage(answer) });
  }
  return c.redirect(savedLocation(answer.body), 303);
}

const idOf = (body: unknown) =>
  typeof body === "object" && body !== null && "id" in body && typeof body.id === "string" ? body.id : "";

export const workflowsPages = new Hono<DashboardEnv>()
  .get("/workflows", async (c) => {
    const db = createDb(c.env.DB);
    const [workflows, activity] = await Promise.all([listWorkflows(db), workflowActivity(db)]);
    const now = new Date();
    return c.html(
      <Layout title="Workflows" section="workflows">
        <p>
          <a class="button primary" href="/workflows/new">
            New workflow
          </a>
        </p>
        {workflows.length === 0 ? (
          <Empty>No workflows yet. Create one from an example.</Empty>
        ) : (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Workflow</th>
                <th scope="col">State</th>
                <th scope="col">Version</th>
                <th scope="col">Last run</th>
                <th scope="col">Runs waiting</th>
              </tr>
            </thead>
            <tbody>
              {workflows.map((w) => {
                const a = activity.get(w.id);
                return (
                  <tr>
                    <td>
                      <a href={link`/workflows/${w.id}`}>{w.name}</a>
                    </td>
                    <td>
                      <span class={`badge ${w.enabled ? "status-completed" : "status-terminated"}`}>
                        {w.enabled ? "enabled" : "disabled"}
                      </span>
                    </td>
                    <td>v{w.currentVersion}</td>
                    <td>
                      {a?.lastRunAt ? (
                        <a href={link`/runs?workflowId=${w.id}`}>{relativeTime(a.lastRunAt, now)}</a>
                      ) : (
                        <span class="muted">never</span>
                      )}
                    </td>
                    <td class="num">
                      {a?.waiting ? <a href={link`/runs?workflowId=${w.id}&status=waiting`}>{a.waiting}</a> : 0}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Layout>,
    );
  })
  .get("/workflows/new", async (c) => {
    const slug = c.req.query("example");
    if (slug === undefined) {
      return c.html(
        <Layout title="New workflow" section="workflows">
          <h2>Start from an example</h2>
          <ul class="examples">
            {EXAMPLES.map((example) => (
              <li>
                <a href={link`/workflows/new?example=${example.slug}`}>{example.name}</a>
                <p class="muted">{example.description}</p>
              </li>
            ))}
          </ul>
          <p>
            Or <a href="/workflows/new?example=blank">start from scratch</a>.
          </p>
        </Layout>,
      );
    }
    const example = EXAMPLES.find((e) => e.slug === slug);
    if (!example && slug !== "blank") throw new AppError(404, "not_found", `no example ${slug}`);
    return renderEditor(c, {
      title: example ? `New workflow: ${example.name}` : "New workflow",
      action: "/workflows/new",
      text: pretty(example ? withCatcherUrl(example.definition, c.env.CATCHER_URL) : BLANK_DEFINITION),
    });
  })
  .post("/workflows/new", (c) =>
    handleEditorPost(
      c,
      { title: "New workflow", action: "/workflows/new" },
      "new-workflow",
      (definition) => callApi(c, "POST", "/workflows", definition),
      (body) => link`/workflows/${idOf(body)}`,
    ),
  )
  .get("/workflows/:id", async (c) => {
    const workflow = await requireWorkflow(c, c.req.param("id"));
    const db = createDb(c.env.DB);
    const [{ definition }, versions, activity] = await Promise.all([
      storedDefinition(c, workflow.id, workflow.currentVersion),
      listVersions(db, workflow.id),
      workflowActivity(db),
    ]);
    const a = activity.get(workflow.id);
    return c.html(
      <Layout title={workflow.name} section="workflows">
        <p class="subtitle">
          <span class={`badge ${workflow.enabled ? "status-completed" : "status-terminated"}`}>
            {workflow.enabled ? "enabled" : "disabled"}
          </span>{" "}
          · version {workflow.currentVersion} · <a href={link`/runs?workflowId=${workflow.id}`}>runs</a>
          {a?.waiting ? ` · ${a.waiting} waiting` : ""}
        </p>
        {definition.description && <p>{definition.description}</p>}
        {definition.suppress && (
          <p>
            Suppressed: at most one run per <code>{definition.suppress.key}</code> per{" "}
            {formatDelay(definition.suppress.forSeconds)} in each Okta org; later matches are counted on the run that
            fired.
          </p>
        )}
        {definition.cancelOn && (
          <p>
            Cancel-on: an event of {describeTypes(definition.cancelOn.eventTypes)}
            {definition.cancelOn.filter ? ` where ${describePredicate(definition.cancelOn.filter)}` : ""} on the
            trigger's asset, in the same Okta org, ends this workflow's running and waiting runs there as cancelled.
          </p>
        )}
        <div class="buttons">
          <a class="button primary" href={link`/workflows/${workflow.id}/edit`}>
            Edit, validate or test
          </a>
          <form method="post" action={link`/workflows/${workflow.id}/${workflow.enabled ? "disable" : "enable"}`}>
            <button type="submit">{workflow.enabled ? "Disable" : "Enable"}</button>
          </form>
        </div>
        <div class="columns wide-left">
          <section>
            <h2>Diagram</h2>
            <DiagramSvg diagram={layoutWorkflow(definition)} label={`Diagram of ${workflow.name}`} />
          </section>
          <section>
            <h2>Versions</h2>
            <ol class="versions" reversed>
              {versions.map((v) => (
                <li>
                  <a href={link`/workflows/${workflow.id}/versions/${v.version}`}>version {v.version}</a>{" "}
                  <span class="muted">
                    <Time iso={v.createdAt} />
                  </span>
                  {v.version === workflow.currentVersion && <span class="badge status-running">current</span>}
                </li>
              ))}
            </ol>
          </section>
        </div>
      </Layout>,
    );
  })
  .get("/workflows/:id/edit", async (c) => {
    const workflow = await requireWorkflow(c, c.req.param("id"));
    const { definition } = await storedDefinition(c, workflow.id, workflow.currentVersion);
    return renderEditor(c, {
      title: `Edit ${workflow.name}`,
      action: link`/workflows/${workflow.id}/edit`,
      text: pretty(definition),
    });
  })
  .post("/workflows/:id/edit", async (c) => {
    const workflow = await requireWorkflow(c, c.req.param("id"));
    return handleEditorPost(
      c,
      { title: `Edit ${workflow.name}`, action: link`/workflows/${workflow.id}/edit` },
      workflow.id,
      (definition) => callApi(c, "PUT", link`/workflows/${workflow.id}`, definition),
      () => link`/workflows/${workflow.id}`,
    );
  })
  .post("/workflows/:id/:action{enable|disable}", async (c) => {
    const workflow = await requireWorkflow(c, c.req.param("id"));
    const answer = await callApi(c, "POST", link`/workflows/${workflow.id}/${c.req.param("action")}`);
    if (answer.status !== 200) throw new AppError(409, "conflict", apiErrorMessage(answer));
    return c.redirect(link`/workflows/${workflow.id}`, 303);
  })
  .get("/workflows/:id/versions/:version{[0-9]+}", async (c) => {
    const workflow = await requireWorkflow(c, c.req.param("id"));
    const version = Number(c.req.param("version"));
    const { definition, createdAt } = await storedDefinition(c, workflow.id, version);
    const previous = version > 1 ? await storedDefinition(c, workflow.id, version - 1) : null;
    const changes = previous ? diffLines(pretty(previous.definition), pretty(definition)) : null;
    return c.html(
      <Layout title={`${workflow.name}, version ${version}`} section="workflows">
        <p class="subtitle">
          Saved <Time iso={createdAt} /> · <a href={link`/workflows/${workflow.id}`}>back to the workflow</a>
        </p>
        <div class="columns">
          <section>
            <h2>{previous ? `Changes from version ${version - 1}` : "Definition (first version)"}</h2>
            <pre class="diff">
              {changes
                ? changes.map((part) => (
                    <span class={part.added ? "added" : part.removed ? "removed" : "same"}>
                      {part.value
                        .replace(/\n$/, "")
                        .split("\n")
                        .map((line) => `${part.added ? "+ " : part.removed ? "- " : "  "}${line}\n`)
                        .join("")}
                    </span>
                  ))
                : pretty(definition)}
            </pre>
          </section>
          <section>
            <h2>Diagram</h2>
            <DiagramSvg diagram={layoutWorkflow(definition)} label={`Diagram of version ${version}`} />
          </section>
        </div>
      </Layout>,
    );
  });

/** Small pieces every page uses: status badges, the Structure icons, the JSON viewer, pagination. */
import type { Child } from "hono/jsx";
import type { PathStep } from "../db/dashboard";
import { formatDelay, type Lateness } from "../workflows/lateness";
import { eventTypeName, formatTime, shortId } from "./format";
import { link } from "./link";

/** The "late" badge of a run started well after its event was published; nothing for a run on time. */
export function LateBadge(props: { late: Lateness | null | undefined }) {
  const { late } = props;
  if (!late?.late) return null;
  return (
    <span
      class="badge late"
      title={`Started ${late.lateBy} after Okta published its event; this workflow counts a run late after ${formatDelay(late.lateAfterSeconds)}`}
    >
      {late.lateBy} late
    </span>
  );
}

export function StatusBadge(props: { status: string }) {
  return <span class={`badge status-${props.status}`}>{props.status.replace("_", " ")}</span>;
}

// Characters every system font has (a pause sign "⏸" is missing from common Linux fonts).
const KIND_ICON: Record<PathStep["kind"], string> = { action: "▶", condition: "◆", event: "‖" };

/** The run's path as small icons: one per step, shaped by kind, coloured by status; the title names the node. */
export function Structure(props: { path: readonly PathStep[] }) {
  if (props.path.length === 0) return <span class="muted">no steps</span>;
  return (
    <span class="structure">
      {props.path.map((step) => (
        <span
          class={`step-icon kind-${step.kind} step-${step.status}`}
          title={`${step.nodeId} (${step.kind}): ${step.status}${step.outcome ? ` → ${step.outcome}` : ""}`}
        >
          {KIND_ICON[step.kind]}
        </span>
      ))}
    </span>
  );
}

export function EventType(props: { eventType: string }) {
  const name = eventTypeName(props.eventType);
  return (
    <span title={props.eventType}>
      {name}
      {name !== props.eventType && <span class="code muted"> {props.eventType}</span>}
    </span>
  );
}

export function Time(props: { iso: string | null | undefined }) {
  return props.iso ? <time datetime={props.iso}>{formatTime(props.iso)}</time> : <span class="muted">–</span>;
}

function JsonNode(props: { name?: string; value: unknown; depth: number }): Child {
  const { name, value, depth } = props;
  const label = name === undefined ? null : <span class="json-key">{name}: </span>;
  if (value !== null && typeof value === "object") {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    const summary = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
    if (entries.length === 0) {
      return (
        <li>
          {label}
          <span class="muted">{Array.isArray(value) ? "[]" : "{}"}</span>
        </li>
      );
    }
    return (
      <li>
        <details open={depth < 2}>
          <summary>
            {label}
            <span class="muted">{summary}</span>
          </summary>
          <ul class="json">
            {entries.map(([key, child]) => (
              <JsonNode name={key} value={child} depth={depth + 1} />
            ))}
          </ul>
        </details>
      </li>
    );
  }
  return (
    <li>
      {label}
      <span class={`json-${value === null ? "null" : typeof value}`}>{JSON.stringify(value)}</span>
    </li>
  );
}

/** JSON as a tree of collapsible objects (the first two levels open), plus the plain text to copy. */
export function JsonViewer(props: { value: unknown }) {
  return (
    <div class="json-viewer">
      <ul class="json root">
        <JsonNode value={props.value} depth={0} />
      </ul>
      <details>
        <summary>Plain JSON</summary>
        <pre>{JSON.stringify(props.value, null, 2)}</pre>
      </details>
    </div>
  );
}

/** "Next page" keeps the filters and adds the cursor. */
export function Pager(props: { path: string; query: Record<string, string | undefined>; nextCursor: string | null }) {
  if (!props.nextCursor) return null;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(props.query)) if (value && key !== "cursor") params.set(key, value);
  params.set("cursor", props.nextCursor);
  return (
    <p class="pager">
      <a href={`${props.path}?${params}`}>Older →</a>
    </p>
  );
}

export function Empty(props: { children: Child }) {
  return <p class="empty">{props.children}</p>;
}

/** A short list of runs (id, workflow, status, start, and a note such as how an event touched it). */
export function RunList(props: {
  rows: ReadonlyArray<{ run: { id: string; workflowId: string; status: string; startedAt: string }; note?: string }>;
  names: ReadonlyMap<string, string>;
  empty: string;
}) {
  if (props.rows.length === 0) return <Empty>{props.empty}</Empty>;
  return (
    <table class="compact">
      <tbody>
        {props.rows.map(({ run, note }) => (
          <tr>
            <td class="code">
              <a href={link`/runs/${run.id}`}>{shortId(run.id)}</a>
            </td>
            <td>{props.names.get(run.workflowId) ?? run.workflowId}</td>
            <td>
              <StatusBadge status={run.status} />
            </td>
            <td>
              <Time iso={run.startedAt} />
            </td>
            {note !== undefined && <td class="muted">{note}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Draws a laid-out workflow (layout.ts) as inline SVG; colours and the path highlight come from the stylesheet. */
import type { Diagram, PlacedNode } from "./layout";

const KIND_LABEL: Record<PlacedNode["kind"], string> = {
  trigger: "TRIGGER",
  action: "ACTION",
  condition: "CONDITION",
  event: "EVENT",
  end: "",
};

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function Node(props: { node: PlacedNode }) {
  const { node } = props;
  const full = [node.kind === "trigger" ? "Trigger" : `${node.title} (${node.id})`, ...node.details].join("\n");
  if (node.kind === "end") {
    const r = node.width / 2;
    return (
      <g class={`node kind-end state-${node.state}`}>
        <title>End of the run (completed)</title>
        <circle cx={node.x + r} cy={node.y + r} r={r} />
        <text x={node.x + r} y={node.y + r + 4} text-anchor="middle" class="end-text">
          end
        </text>
      </g>
    );
  }
  return (
    <g class={`node kind-${node.kind} state-${node.state}`} data-node={node.id}>
      <title>{full}</title>
      <rect x={node.x} y={node.y} width={node.width} height={node.height} rx={node.kind === "condition" ? 14 : 6} />
      <text x={node.x + 10} y={node.y + 14} class="node-kind">
        {KIND_LABEL[node.kind]}
        {node.state === "waiting" ? " · WAITING HERE" : node.state === "failed" ? " · FAILED" : ""}
      </text>
      <text x={node.x + 10} y={node.y + 30} class="node-title">
        {clip(node.title, 34)}
      </text>
      {node.details.map((line, i) => (
        <text x={node.x + 10} y={node.y + 46 + i * 16} class="node-detail">
          {clip(line, 42)}
        </text>
      ))}
    </g>
  );
}

function ArrowHead(props: { id: string; className: string }) {
  return (
    <marker
      id={props.id}
      viewBox="0 0 10 10"
      refX="9"
      refY="5"
      markerWidth="9"
      markerHeight="9"
      markerUnits="userSpaceOnUse"
      orient="auto"
    >
      <path d="M0,0 L10,5 L0,10 z" class={props.className} />
    </marker>
  );
}

export function DiagramSvg(props: { diagram: Diagram; label: string }) {
  const { diagram } = props;
  return (
    <figure class="diagram">
      <svg
        viewBox={`0 0 ${Math.ceil(diagram.width)} ${Math.ceil(diagram.height)}`}
        width={Math.ceil(diagram.width)}
        height={Math.ceil(diagram.height)}
        role="img"
        aria-label={props.label}
      >
        <defs>
          <ArrowHead id="arrow" className="arrow-head" />
          <ArrowHead id="arrow-taken" className="arrow-head taken" />
        </defs>
        {diagram.edges.map((edge) => (
          <path
            class={edge.taken ? "edge taken" : "edge"}
            d={edge.points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ")}
            marker-end={edge.taken ? "url(#arrow-taken)" : "url(#arrow)"}
          />
        ))}
        {diagram.nodes.map((node) => (
          <Node node={node} />
        ))}
        {diagram.edges.map((edge) =>
          edge.labelAt ? (
            <g class={edge.taken ? "edge-label taken" : "edge-label"}>
              <rect
                x={edge.labelAt.x - edge.label.length * 3.5 - 4}
                y={edge.labelAt.y - 9}
                width={edge.label.length * 7 + 8}
                height={16}
                rx={3}
              />
              <text x={edge.labelAt.x} y={edge.labelAt.y + 3} text-anchor="middle">
                {edge.label}
              </text>
            </g>
          ) : null,
        )}
      </svg>
    </figure>
  );
}

import type { Throughput } from "../api-types.js";
import { h, svg } from "../dom.js";
import { clockTime } from "../format.js";

// A wide drawing that the stylesheet scales to the page's width (height follows the aspect ratio).
const WIDTH = 1200;
const HEIGHT = 200;
const LEFT = 36;
const BOTTOM = 20;
const TOP = 8;

/** Stacked bars per minute (completed, dead-lettered) as SVG built element by element. */
export function throughputChart(data: Throughput): HTMLElement {
  const buckets = data.buckets;
  const completed = buckets.reduce((sum, bucket) => sum + bucket.completed, 0);
  const failed = buckets.reduce((sum, bucket) => sum + bucket.failed, 0);
  const busiest = Math.max(0, ...buckets.map((bucket) => bucket.completed + bucket.failed));
  const peak = Math.max(1, busiest);
  const plotHeight = HEIGHT - BOTTOM - TOP;
  const slot = (WIDTH - LEFT) / Math.max(1, buckets.length);
  const barWidth = Math.max(1, slot - 2);
  const y = (value: number) => TOP + plotHeight - (value / peak) * plotHeight;

  const bars = buckets.flatMap((bucket, index) => {
    const x = LEFT + index * slot + 1;
    const label = `${clockTime(bucket.at)}: ${bucket.completed} completed, ${bucket.failed} failed`;
    const parts = [];
    if (bucket.completed > 0) {
      parts.push(
        svg(
          "rect",
          {
            class: "bar-completed",
            x,
            y: y(bucket.completed),
            width: barWidth,
            height: y(0) - y(bucket.completed),
          },
          svg("title", {}, label),
        ),
      );
    }
    if (bucket.failed > 0) {
      const base = y(bucket.completed);
      parts.push(
        svg(
          "rect",
          {
            class: "bar-failed",
            x,
            y: base - (y(0) - y(bucket.failed)),
            width: barWidth,
            height: y(0) - y(bucket.failed),
          },
          svg("title", {}, label),
        ),
      );
    }
    return parts;
  });

  const ticks = buckets.flatMap((bucket, index) =>
    index % 10 === 0 || index === buckets.length - 1
      ? [
          svg(
            "text",
            { class: "tick", x: LEFT + index * slot + slot / 2, y: HEIGHT - 4, "text-anchor": "middle" },
            clockTime(bucket.at),
          ),
        ]
      : [],
  );

  const chart = svg(
    "svg",
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      class: "chart",
      role: "img",
      "aria-label": `Jobs finished per minute over the last ${buckets.length} minutes`,
    },
    svg("line", { class: "axis", x1: LEFT, y1: y(0), x2: WIDTH, y2: y(0) }),
    svg("line", { class: "grid", x1: LEFT, y1: y(peak), x2: WIDTH, y2: y(peak) }),
    svg("text", { class: "tick", x: LEFT - 6, y: y(peak) + 4, "text-anchor": "end" }, String(peak)),
    svg("text", { class: "tick", x: LEFT - 6, y: y(0) + 4, "text-anchor": "end" }, "0"),
    ...bars,
    ...ticks,
  );

  return h(
    "figure",
    { class: "throughput" },
    chart,
    h(
      "figcaption",
      { "data-testid": "throughput-totals" },
      h("span", { class: "legend completed" }, `${completed} completed`),
      " · ",
      h("span", { class: "legend failed" }, `${failed} dead-lettered`),
      ` in the last ${Math.round((buckets.length * data.bucketSeconds) / 60)} minutes, per minute (busiest minute: ${busiest})`,
    ),
  );
}

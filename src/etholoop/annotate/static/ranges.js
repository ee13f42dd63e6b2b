// Pure edits of behavior labels: frame ranges [start, stop) per individual,
// behavior and source. Every function returns a new array.

const sameLane = (l, individual, behavior) => l.individual === individual && l.behavior === behavior;

export function sortLabels(labels) {
  return labels.sort((a, b) => a.individual - b.individual || a.behavior.localeCompare(b.behavior) || a.start - b.start || a.source.localeCompare(b.source));
}

/** Mark [start, stop) as manual `behavior` of `individual`, merging touching manual ranges. */
export function paint(labels, individual, behavior, start, stop) {
  if (stop <= start) return labels.slice();
  const keep = [];
  const merged = [];
  for (const l of labels) {
    const touches = l.source === "manual" && sameLane(l, individual, behavior) && l.start <= stop && l.stop >= start;
    (touches ? merged : keep).push(l);
  }
  const base = merged.find((l) => l.id !== null) ?? { id: null, version: null, individual, behavior, source: "manual", score: null };
  keep.push({
    ...base,
    start: Math.min(start, ...merged.map((l) => l.start)),
    stop: Math.max(stop, ...merged.map((l) => l.stop)),
  });
  return sortLabels(keep);
}

/** Remove [start, stop) from one lane (manual and predicted), splitting ranges it cuts. */
export function erase(labels, individual, behavior, start, stop) {
  const out = [];
  for (const l of labels) {
    if (!sameLane(l, individual, behavior) || l.stop <= start || l.start >= stop) {
      out.push(l);
      continue;
    }
    let id = l.id;
    let version = l.version;
    if (l.start < start) {
      out.push({ ...l, stop: start });
      id = null; // the left part keeps the row, the right part is new
      version = null;
    }
    if (l.stop > stop) out.push({ ...l, id, version, start: stop });
  }
  return sortLabels(out);
}

/** Turn predicted ranges that `match` into manual ones (merged with touching manual ranges). */
export function confirm(labels, match = () => true) {
  const chosen = labels.filter((l) => l.source === "predicted" && match(l));
  let out = labels.filter((l) => !chosen.includes(l));
  for (const l of chosen) {
    const before = out.length;
    out = paint(out, l.individual, l.behavior, l.start, l.stop);
    // keep the confirmed row's id when it did not merge into an existing one
    const made = out.find((m) => m.id === null && m.source === "manual" && sameLane(m, l.individual, l.behavior) && m.start === l.start && m.stop === l.stop);
    if (made && out.length > before) Object.assign(made, { id: l.id, version: l.version, score: l.score });
  }
  return sortLabels(out);
}

/** The label of one lane and source covering `frame`, or undefined. */
export function labelAt(labels, individual, behavior, frame, source) {
  return labels.find((l) => sameLane(l, individual, behavior) && l.source === source && l.start <= frame && frame < l.stop);
}

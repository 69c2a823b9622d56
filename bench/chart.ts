import type { ScheduleOutcome } from "./schedules";

const COLORS = ["#2563eb", "#dc2626", "#16a34a"];

/**
 * An SVG chart of detection delay against polls per ticket, one line per schedule and one point per reply
 * time. Both axes are logarithmic: the schedules differ by orders of magnitude.
 */
export function delayVersusPollsSvg(outcomes: ScheduleOutcome[]): string {
  const width = 720;
  const height = 420;
  const m = { left: 70, right: 200, top: 40, bottom: 60 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const xs = [1, 10, 100, 1000];
  const ys = [1, 10, 100];
  const x = (polls: number) => m.left + (Math.log10(polls) / 3) * plotW;
  const y = (delay: number) => m.top + plotH - (Math.log10(Math.max(delay, 1)) / 2) * plotH;
  const schedules = [...new Set(outcomes.map((o) => o.schedule))];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${m.left}" y="22" font-size="14" font-weight="bold">Detection delay against polls per ticket</text>`,
  ];
  for (const v of xs) {
    parts.push(`<line x1="${x(v)}" y1="${m.top}" x2="${x(v)}" y2="${m.top + plotH}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${x(v)}" y="${m.top + plotH + 18}" text-anchor="middle">${v}</text>`);
  }
  for (const v of ys) {
    parts.push(`<line x1="${m.left}" y1="${y(v)}" x2="${m.left + plotW}" y2="${y(v)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${m.left - 8}" y="${y(v) + 4}" text-anchor="end">${v} s</text>`);
  }
  parts.push(
    `<text x="${m.left + plotW / 2}" y="${height - 18}" text-anchor="middle">polls per ticket (log)</text>`,
    `<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">delay after the reply is final (log)</text>`,
  );
  schedules.forEach((name, i) => {
    const points = outcomes
      .filter((o) => o.schedule === name)
      .sort((a, b) => a.replySeconds - b.replySeconds);
    const color = COLORS[i % COLORS.length];
    const path = points.map((p) => `${x(p.polls).toFixed(1)},${y(p.delaySeconds).toFixed(1)}`).join(" ");
    parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of points) {
      const label = p.replySeconds < 60 ? `${p.replySeconds}s` : `${p.replySeconds / 60}m`;
      parts.push(
        `<circle cx="${x(p.polls).toFixed(1)}" cy="${y(p.delaySeconds).toFixed(1)}" r="4" fill="${color}"/>`,
      );
      parts.push(
        `<text x="${(x(p.polls) + 6).toFixed(1)}" y="${(y(p.delaySeconds) - 6).toFixed(1)}" fill="${color}" font-size="10">${label}</text>`,
      );
    }
    parts.push(
      `<rect x="${m.left + plotW + 20}" y="${m.top + i * 22}" width="12" height="12" fill="${color}"/>`,
    );
    parts.push(`<text x="${m.left + plotW + 38}" y="${m.top + i * 22 + 11}">${name}</text>`);
  });
  parts.push(
    `<text x="${m.left + plotW + 20}" y="${m.top + 90}" font-size="10" fill="#6b7280">points: reply after</text>`,
    `<text x="${m.left + plotW + 20}" y="${m.top + 104}" font-size="10" fill="#6b7280">10 s ... 30 min</text>`,
    `<text x="${m.left + plotW + 20}" y="${m.top + 118}" font-size="10" fill="#6b7280">(delays under 1 s drawn at 1 s)</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}

// How the manager pages write numbers, shares, durations and times.

const integer = new Intl.NumberFormat("en");

export const count = (n) => integer.format(n);

export function share(x, digits = 2) {
  return x === null || x === undefined ? "–" : x.toFixed(digits);
}

export function percent(part, whole) {
  return whole ? `${Math.round((100 * part) / whole)}%` : "–";
}

// Seconds as a short human duration: "4.2 s", "26 min", "3 h 5 min", "2.5 days".
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) {
    const minutes = Math.round(seconds / 60);
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }
  return `${(seconds / 86400).toFixed(1)} days`;
}

// "2024-03-01T10:15:00.000000Z" -> "2024-03-01 10:15 UTC".
export function utcTime(iso) {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : "–";
}

export function durationMs(ms) {
  return duration(ms === null || ms === undefined ? null : ms / 1000);
}

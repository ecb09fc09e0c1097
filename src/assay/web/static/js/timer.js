// Active time on a task: time while the tab is visible and the worker has used mouse or
// keyboard in the last IDLE_MS. A hidden tab or a coffee break does not count.

const IDLE_MS = 30_000;
const TICK_MS = 500;

export class ActiveTimer {
  constructor(onTick) {
    this.onTick = onTick;
    this.counted = 0;
    this.lastInput = performance.now();
    this.lastTick = performance.now();
    for (const type of ["keydown", "pointerdown", "pointermove", "wheel", "input"]) {
      window.addEventListener(type, () => (this.lastInput = performance.now()), { passive: true });
    }
    setInterval(() => this.tick(), TICK_MS);
  }

  reset(ms = 0) {
    this.counted = ms;
    this.lastInput = this.lastTick = performance.now();
    this.onTick?.(this.counted);
  }

  /** Active milliseconds so far, up to this moment. */
  get ms() {
    const now = performance.now();
    const active = document.visibilityState === "visible" && now - this.lastInput < IDLE_MS;
    if (active) this.counted += now - this.lastTick;
    this.lastTick = now;
    return this.counted;
  }

  tick() {
    this.onTick?.(this.ms);
  }
}

export function clock(ms) {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

// Ranking: order the responses best first. Drag a response by its grip, or focus it (Tab)
// and move it with the up and down arrows.

import { el, showItem, statusLine, titledText } from "./common.js";

const MOVES = { ArrowUp: -1, ArrowDown: 1 };

export function mount(root, ctx) {
  const task = ctx.task.params;
  const identity = task.responses.map((_, i) => i);
  const state = { order: identity, dragging: null }; // dragging: the response being dragged
  const list = el("ol", { class: "w-rank", "aria-label": "Responses, best first" });
  const status = statusLine();
  root.append(
    titledText("Prompt", task.prompt),
    showItem(task, ["prompt", "responses", "models"]),
    el("p", { class: "w-hint", text: "Best first. Drag a response by its grip, or focus it and press ↑ or ↓." }),
    list,
    status.node,
  );

  function render(focus = null) {
    list.replaceChildren(
      ...state.order.map((response, position) =>
        el(
          "li",
          { class: response === state.dragging ? "w-rank-item w-dragging" : "w-rank-item", tabindex: "0" },
          el("span", { class: "w-grip", "aria-hidden": "true", text: "⠿" }),
          titledText(`${position + 1}. Response ${response + 1}`, task.responses[response]),
        ),
      ),
    );
    if (focus !== null) list.children[focus].focus();
  }

  const positionOf = (item) => [...list.children].indexOf(item);

  function moveTo(response, position) {
    state.order = state.order.filter((r) => r !== response);
    state.order.splice(position, 0, response);
    status.say(`Response ${response + 1} is now ${position + 1} of ${state.order.length}.`);
  }

  list.addEventListener("pointerdown", (event) => {
    const grip = event.target.closest(".w-grip");
    if (!grip || event.button !== 0) return;
    event.preventDefault();
    state.dragging = state.order[positionOf(grip.parentElement)];
    list.setPointerCapture(event.pointerId); // the list stays while its items are redrawn
    render();
  });
  list.addEventListener("pointermove", (event) => {
    if (state.dragging === null) return;
    const over = document.elementFromPoint(event.clientX, event.clientY)?.closest(".w-rank-item");
    const position = over ? positionOf(over) : -1;
    if (position < 0 || state.order[position] === state.dragging) return;
    moveTo(state.dragging, position);
    render();
  });
  list.addEventListener("pointerup", () => {
    if (state.dragging === null) return;
    state.dragging = null;
    render();
    ctx.onChange(value());
  });

  function key(event) {
    const item = event.target.closest?.(".w-rank-item");
    if (!MOVES[event.key] || event.shiftKey || !item || !list.contains(item)) return false;
    const position = positionOf(item) + MOVES[event.key];
    if (position < 0 || position >= state.order.length) return true;
    moveTo(state.order[positionOf(item)], position);
    render(position);
    ctx.onChange(value());
    return true;
  }

  const value = () => ({ ranking: [...state.order] });

  function set(answer) {
    const ranking = answer?.ranking ?? [];
    const complete = ranking.length === identity.length && identity.every((i) => ranking.includes(i));
    state.order = complete ? [...ranking] : identity;
    render();
  }

  set(ctx.value);
  return { value, set, key, destroy: () => root.replaceChildren() };
}

export function describe(answer, ctx) {
  const responses = ctx.task.params.responses;
  return el(
    "ol",
    { class: "w-answer" },
    answer.ranking.map((i) => el("li", {}, el("strong", { text: `Response ${i + 1}: ` }), responses[i])),
  );
}

// Chat: write a conversation under the system prompt: user turns and assistant replies,
// alternating, starting with the user and ending with a reply. Turns can be added,
// edited and removed; with `rate_turns` every reply is rated 1-5. Editing a model's
// reply marks it "edited"; replies written here are "human".

import { button, choices, el, field, keyValues, showItem, titledText, todoLine } from "./common.js";

const ROLES = { user: "User", assistant: "Assistant" };
const RATINGS = [1, 2, 3, 4, 5].map((n) => ({ value: n, text: String(n) }));

export function mount(root, ctx) {
  const params = ctx.project.params;
  const task = ctx.task.params;
  const system = task.system ?? params.system;
  const state = { messages: [] };
  const list = el("ol", { class: "w-turns", "aria-label": "Conversation" });
  const addUser = button("Add user turn", () => add("user"));
  const addReply = button("Add assistant turn", () => add("assistant"));
  const todo = todoLine();
  if (system) root.append(titledText("System prompt", system));
  const adding = el("div", { class: "row" }, addUser, addReply);
  root.append(showItem(task, ["system", "seed_messages"]), list, adding, todo.node);

  const userTurns = () => state.messages.filter((m) => m.role === "user").length;

  function changed() {
    ctx.onChange(value());
  }

  function render(focus = null) {
    list.replaceChildren(...state.messages.map((message, i) => turn(message, i)));
    const last = state.messages.at(-1)?.role;
    addUser.disabled = last === "user" || userTurns() >= (params.max_turns ?? Infinity);
    addReply.disabled = last !== "user";
    if (focus !== null) list.children[focus].querySelector("textarea").focus();
    value(); // shows what is missing
  }

  function turn(message, i) {
    const name = `${ROLES[message.role]} turn ${i + 1}`;
    const text = el("textarea", { rows: 3 });
    text.value = message.content;
    text.addEventListener("input", () => {
      message.content = text.value;
      if (message.source === "model") message.source = "edited";
      changed();
    });
    const rating =
      params.rate_turns && message.role === "assistant"
        ? choices({
            legend: `Rating of ${name} (1 poor, 5 excellent)`,
            options: RATINGS,
            onChange: () => {
              message.rating = rating.get();
              changed();
            },
          })
        : null;
    rating?.set(message.rating ?? null);
    const remove = () => {
      state.messages.splice(i, 1);
      render(state.messages.length ? Math.max(0, i - 1) : null); // the focused button is gone
      changed();
    };
    return el(
      "li",
      { class: `w-turn w-${message.role}` },
      field(message.source ? `${name} (${message.source})` : name, text),
      rating?.node,
      button(`Remove ${name}`, remove),
    );
  }

  function add(role) {
    state.messages.push({ role, content: "", source: role === "assistant" ? "human" : undefined });
    render(state.messages.length - 1);
    changed();
  }

  /** What keeps the conversation from being an answer, as the server checks it. */
  function problems() {
    const found = [];
    state.messages.forEach((m, i) => {
      const expected = i % 2 ? "assistant" : "user";
      if (m.role !== expected) found.push(`turn ${i + 1} should be the ${expected}'s (turns alternate)`);
      if (!m.content.trim()) found.push(`write turn ${i + 1}`);
      if (params.rate_turns && m.role === "assistant" && !m.rating) found.push(`rate turn ${i + 1}`);
    });
    const least = params.min_turns ?? 1;
    const most = params.max_turns ?? Infinity;
    if (state.messages.at(-1)?.role !== "assistant") found.push("end with an assistant reply");
    if (userTurns() < least) found.push(`write at least ${least} user turns`);
    if (userTurns() > most) found.push(`keep to ${most} user turns`);
    return found;
  }

  function value() {
    if (!todo.show(problems())) return null;
    return {
      messages: state.messages.map(({ role, content, rating, source }) => ({
        role,
        content,
        ...(params.rate_turns && role === "assistant" ? { rating } : {}),
        ...(source ? { source } : {}),
      })),
    };
  }

  function set(answer) {
    const messages = answer?.messages ?? task.seed_messages ?? [];
    state.messages = messages.map((m) => ({ ...m }));
    render();
  }

  set(ctx.value);
  return { value, set, key: () => false, destroy: () => root.replaceChildren() };
}

export function describe(answer) {
  return keyValues(
    answer.messages.map((m) => {
      const notes = [m.rating ? `rated ${m.rating} of 5` : null, m.source].filter(Boolean);
      return [notes.length ? `${ROLES[m.role]} (${notes.join(", ")})` : ROLES[m.role], m.content];
    }),
  );
}

// Response: write the ideal reply to the prompt, or (mode "edit") improve the task's
// draft, which the text box starts from; a live count shows the length against the bounds.

import { describeText, mountText, showItem, titledText } from "./common.js";

export function mount(root, ctx) {
  const params = ctx.project.params;
  const task = ctx.task.params;
  const editing = params.mode === "edit";
  return mountText(root, ctx, {
    before: [
      task.system ? titledText("System prompt", task.system) : null,
      titledText("Prompt", task.prompt),
      showItem(task, ["prompt", "draft", "system"]),
    ],
    label: editing ? "Your edit of the draft reply" : "Your reply",
    min: params.min_length ?? 1,
    max: params.max_length ?? null,
    rows: 10,
    start: editing ? (task.draft ?? "") : "",
  });
}

export const describe = describeText;

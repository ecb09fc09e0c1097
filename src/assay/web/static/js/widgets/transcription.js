// Transcription: write down the text of the item (its image or recording is shown above
// the text box), within the project's length bounds.

import { describeText, mountText, showItem } from "./common.js";

export function mount(root, ctx) {
  const params = ctx.project.params;
  return mountText(root, ctx, {
    before: [showItem(ctx.task.params)],
    label: "Transcript",
    min: params.min_length ?? 0,
    max: params.max_length ?? null,
  });
}

export const describe = describeText;

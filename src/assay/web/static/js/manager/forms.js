// Problem errors shown on a form: each field error next to its input (the first segment
// of the error's field path names the input), the rest in the form's status line.

export function clearErrors(form) {
  for (const message of form.querySelectorAll(".field-error")) {
    message.textContent = "";
    message.hidden = true;
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

export function showErrors(form, error, status) {
  clearErrors(form);
  const unplaced = [];
  for (const { field, message } of error.problem?.errors ?? []) {
    const name = (field || "").split(/[.[]/)[0];
    const input = name && form.elements.namedItem(name);
    const slot = input && form.querySelector(`#${input.id}-error`);
    if (!slot) {
      unplaced.push(field ? `${field}: ${message}` : message);
      continue;
    }
    input.setAttribute("aria-invalid", "true");
    slot.textContent = slot.hidden ? message : `${slot.textContent} ${message}`;
    slot.hidden = false;
  }
  const marked = form.querySelector("[aria-invalid]");
  status.textContent = unplaced.length ? unplaced.join("; ") : marked ? "Please correct the marked fields." : error.message;
  status.className = "status error";
  marked?.focus();
}

export function showDone(status, text) {
  status.textContent = text;
  status.className = "status ok";
}

// A catch handler that says in `status` what could not be done.
export function failed(status, what) {
  return (error) => {
    status.textContent = `${what}: ${error.message}`;
    status.className = "status error";
  };
}

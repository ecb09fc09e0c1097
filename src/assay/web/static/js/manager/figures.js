// A figure on a page: the element #fig-<key> shows `text`; its data-value holds the
// exact number (empty when unknown) for whoever reads the page by machine.

export function setFigure(key, value, text) {
  const figure = document.getElementById(`fig-${key}`);
  figure.textContent = text;
  figure.dataset.value = value === null || value === undefined ? "" : String(value);
}

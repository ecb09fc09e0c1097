// Drafts: the answer in progress and its active time, kept in this browser per
// assignment, so a reload or a browser crash loses nothing. Drafts older than a day go.

const PREFIX = "assay.draft.";
const KEEP_MS = 24 * 3600 * 1000;

export function loadDraft(assignmentId) {
  try {
    return JSON.parse(localStorage.getItem(PREFIX + assignmentId));
  } catch {
    return null;
  }
}

export function saveDraft(assignmentId, value, activeMs) {
  const draft = { value, activeMs, savedAt: Date.now() };
  localStorage.setItem(PREFIX + assignmentId, JSON.stringify(draft));
}

export function dropDraft(assignmentId) {
  localStorage.removeItem(PREFIX + assignmentId);
}

export function dropStaleDrafts() {
  for (const key of Object.keys(localStorage)) {
    if (!key.startsWith(PREFIX)) continue;
    const savedAt = JSON.parse(localStorage.getItem(key) || "{}").savedAt || 0;
    if (Date.now() - savedAt > KEEP_MS) localStorage.removeItem(key);
  }
}

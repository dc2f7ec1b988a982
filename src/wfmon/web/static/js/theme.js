// The colour theme toggle: Auto (follows the system) → Light → Dark → Auto. A choice is
// kept in localStorage; theme-init.js applies it before the next page is painted.
// Charts listen for the "wfmon:theme" event to recolour.

const KEY = "wfmon-theme";
const ORDER = ["auto", "light", "dark"];
const LABELS = { auto: "Auto", light: "Light", dark: "Dark" };
const ICONS = {
  // A half-filled circle, a sun, a moon: drawn with one path each.
  auto: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z M12 3v18 M12 8h4 M12 12h5 M12 16h4",
  light: "M12 7a5 5 0 1 0 0 10a5 5 0 1 0 0-10z M12 1v3 M12 20v3 M1 12h3 M20 12h3 M4.2 4.2l2.1 2.1 M17.7 17.7l2.1 2.1 M4.2 19.8l2.1-2.1 M17.7 6.3l2.1-2.1",
  dark: "M12 3a9 9 0 1 0 9 9 7 7 0 0 1-9-9z",
};
const system = window.matchMedia("(prefers-color-scheme: dark)");

export function chosenTheme() {
  const value = document.documentElement.dataset.theme;
  return value === "light" || value === "dark" ? value : "auto";
}

/** "light" or "dark": what is on screen now. */
export function effectiveTheme() {
  const chosen = chosenTheme();
  if (chosen !== "auto") return chosen;
  return system.matches ? "dark" : "light";
}

function save(theme) {
  try {
    if (theme === "auto") window.localStorage.removeItem(KEY);
    else window.localStorage.setItem(KEY, theme);
  } catch {
    // storage refused: the choice lasts for this page only
  }
}

function render(button) {
  const theme = chosenTheme();
  const next = ORDER[(ORDER.indexOf(theme) + 1) % ORDER.length];
  const what = theme === "auto" ? "follows the system" : LABELS[theme].toLowerCase();
  button.setAttribute("aria-label", `Colour theme: ${what}. Switch to ${LABELS[next].toLowerCase()}.`);
  button.title = `Theme: ${LABELS[theme]} (click for ${LABELS[next]})`;
  button.querySelector(".theme-label").textContent = LABELS[theme];
  const path = button.querySelector(".theme-icon");
  path.setAttribute("d", ICONS[theme]);
  path.setAttribute("fill", theme === "dark" ? "currentColor" : "none");
  path.setAttribute("stroke", theme === "dark" ? "none" : "currentColor");
  path.setAttribute("stroke-width", "2");
  path.setAttribute("stroke-linecap", "round");
}

function announce() {
  document.dispatchEvent(new CustomEvent("wfmon:theme", { detail: effectiveTheme() }));
}

export function setTheme(theme) {
  const root = document.documentElement;
  if (theme === "auto") delete root.dataset.theme;
  else root.dataset.theme = theme;
  save(theme);
  announce();
}

export function initThemeToggle(button) {
  if (!button) return;
  render(button);
  button.addEventListener("click", () => {
    const next = ORDER[(ORDER.indexOf(chosenTheme()) + 1) % ORDER.length];
    setTheme(next);
    render(button);
  });
  system.addEventListener("change", () => {
    if (chosenTheme() === "auto") announce();
  });
}

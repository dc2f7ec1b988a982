// Runs before the page is painted (a classic script in <head>, not a module): marks the
// page as scripted and applies the theme chosen with the toggle, so there is no flash of
// the other theme. Without a choice, CSS follows prefers-color-scheme.
(function () {
  var root = document.documentElement;
  root.classList.add("js");
  try {
    var chosen = window.localStorage.getItem("wfmon-theme");
    if (chosen === "light" || chosen === "dark") root.setAttribute("data-theme", chosen);
  } catch (e) {
    // Storage can be refused (privacy settings): the system theme applies.
  }
})();

/* Loaded without `defer` in <head>, before anything is drawn: marks the page as
 * JavaScript-enabled so CSS hides what only browsers without it need (the board's per-card
 * move forms), with no flash of them. The CSP allows no inline script, hence a file. */
document.documentElement.classList.add("js");

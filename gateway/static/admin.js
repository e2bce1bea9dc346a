// Progressive enhancement for the administrator's console; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const slot of document.querySelectorAll(".print-slot")) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Печать";
    button.addEventListener("click", () => window.print());
    slot.prepend(button, " ");
  }
});

// The journal grid from the keyboard: arrows move between cells, Enter moves down.
// Progressive enhancement only: without it the grid is an ordinary form.
(function () {
  "use strict";
  var form = document.getElementById("grid");
  if (!form) { return; }

  var table = form.querySelector("table");

  // Positions come from the table itself (row and cell indexes), so the page need not
  // repeat them on each of its thousands of inputs; nor a class: a cell is an input in a td.
  function cellAt(row, col) {
    var tr = table.rows[row];
    var td = tr && tr.cells[col];
    return td && td.tagName === "TD" ? td.querySelector("input") : null;
  }

  function isCell(element) {
    return element instanceof HTMLInputElement && element.parentElement !== null &&
      element.parentElement.tagName === "TD" && table.contains(element);
  }

  function move(input, dr, dc) {
    var row = input.closest("tr").rowIndex, col = input.closest("td").cellIndex;
    for (var step = 1; step < 200; step += 1) {
      var r = row + dr * step, c = col + dc * step;
      if (r < 0 || c < 0 || r >= table.rows.length || c >= table.rows[r].cells.length) {
        return false;
      }
      var next = cellAt(r, c);
      if (next) { next.focus(); next.select(); return true; }
    }
    return false;
  }

  function atStart(input) { return input.selectionStart === 0 && input.selectionEnd === 0; }
  function atEnd(input) {
    var n = input.value.length;
    return input.selectionStart === n && input.selectionEnd === n;
  }

  form.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!isCell(input)) { return; }
    var moved = false;
    switch (event.key) {
      case "ArrowUp": moved = move(input, -1, 0); break;
      case "ArrowDown": moved = move(input, 1, 0); break;
      case "ArrowLeft": if (atStart(input)) { moved = move(input, 0, -1); } break;
      case "ArrowRight": if (atEnd(input)) { moved = move(input, 0, 1); } break;
      case "Enter":
        event.preventDefault();
        if (event.ctrlKey || event.metaKey) { form.requestSubmit(); return; } // Ctrl+Enter saves
        move(input, event.shiftKey ? -1 : 1, 0);
        return;
      default: return;
    }
    if (moved) { event.preventDefault(); }
  });

  form.addEventListener("focusin", function (event) {
    var input = event.target;
    if (isCell(input)) { input.select(); }
  });

  // The skip link «к журналу» (without this script it focuses the grid's scroll box): straight
  // to the first cell one may type into.
  var skip = document.querySelector("a.skip[href='#journal']");
  var first = table.querySelector("td input:not([type=hidden])");
  if (skip && first) {
    skip.addEventListener("click", function (event) {
      event.preventDefault();
      first.focus();
    });
  }

  // After a save or a refused one the page names its cell (a fragment, autofocus): focus it
  // even where the browser did not.
  var named = location.hash ? document.getElementById(location.hash.slice(1)) : null;
  var anchor = named || form.querySelector("input[autofocus]");
  if (anchor && isCell(anchor) && document.activeElement !== anchor) { anchor.focus(); }

  form.addEventListener("input", function (event) {
    var input = event.target;
    if (isCell(input)) {
      input.classList.toggle("changed", input.value !== input.defaultValue);
    }
  });
}());

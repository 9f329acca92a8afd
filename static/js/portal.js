/* Portal behaviour on top of htmx and Bootstrap (DESIGN §11). Loaded with `defer` from
 * base.html; no inline script anywhere (CSP: script-src 'self'). Everything here is an
 * enhancement: every page works without it. */
(function () {
  "use strict";

  /* Focus after an htmx swap. The contract other templates rely on: after every swap, focus
   * moves to the first element of the swapped content that has `data-focus-after-swap`, else
   * to its [role=status] / [role=alert], else to the swapped element itself (given
   * tabindex=-1 when it cannot take focus). The last two only apply when the swap took the
   * focus away (the focused control was replaced, or nothing has focus): a live preview
   * updated while someone types must not pull the cursor out of the input. */
  var settled = [];

  function focusable(el) {
    if (el.matches("a[href], button, input, select, textarea, summary, [tabindex]")) {
      return el;
    }
    el.setAttribute("tabindex", "-1");
    return el;
  }

  function focusLost() {
    var active = document.activeElement;
    return !active || active === document.body || !document.body.contains(active);
  }

  function moveFocus() {
    var elements = settled.filter(function (el) {
      return el instanceof Element && document.body.contains(el);
    });
    settled = [];
    if (!elements.length) {
      return;
    }
    var target = null;
    elements.some(function (el) {
      target = el.matches("[data-focus-after-swap]")
        ? el
        : el.querySelector("[data-focus-after-swap]");
      return target;
    });
    if (!target && focusLost()) {
      elements.some(function (el) {
        target = el.matches("[role=status], [role=alert]")
          ? el
          : el.querySelector("[role=status], [role=alert]");
        return target;
      });
      target = target || elements[0];
    }
    if (target) {
      focusable(target).focus({ preventScroll: false });
    }
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    settled.push(event.target);
    // One swap may settle several elements (outerHTML with siblings, out-of-band parts):
    // decide once, after all of them.
    if (settled.length === 1) {
      window.setTimeout(moveFocus, 0);
    }
  });

  /* File inputs: the native input is visually hidden inside a labelled Vietnamese button
   * (assessments/widgets.py FileInput); show the chosen file names beside it. */
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches(".portal-file-input")) {
      return;
    }
    var box = input.closest(".portal-file");
    var name = box && box.querySelector(".portal-file-name");
    if (!name) {
      return;
    }
    var files = Array.prototype.map.call(input.files || [], function (file) {
      return file.name;
    });
    name.textContent = files.length ? files.join(", ") : name.getAttribute("data-empty");
  });

  /* Tables wider than a phone scroll inside their own box, not the page: wrap a bare table in
   * .table-responsive, and let the keyboard reach (scroll) a box that actually overflows. */
  function fitTables(root) {
    root.querySelectorAll("main table").forEach(function (table) {
      if (!table.closest(".table-responsive")) {
        var box = document.createElement("div");
        box.className = "table-responsive";
        table.parentNode.insertBefore(box, table);
        box.appendChild(table);
      }
    });
    root.querySelectorAll("main .table-responsive").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    fitTables(document);
  });
  document.addEventListener("htmx:afterSettle", function () {
    fitTables(document);
  });
  var resizing = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(function () {
      fitTables(document);
    }, 150);
  });
})();

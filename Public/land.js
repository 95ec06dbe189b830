// The land import page: uploads with a progress bar (XMLHttpRequest upload progress). The
// server answers the upload with the whole page (the result or the refused rows); its <main>
// replaces this page's. Without JavaScript the forms post normally.
(function () {
  "use strict";

  function bind(root) {
    Array.prototype.forEach.call(root.querySelectorAll("form.upload-form"), function (form) {
      form.addEventListener("submit", function (e) {
        if (!window.FormData || !window.XMLHttpRequest) return;  // the normal form POST
        e.preventDefault();
        var box = form.querySelector(".upload-progress");
        var bar = box && box.querySelector("progress");
        var text = box && box.querySelector(".progress-text");
        var data = new FormData(form);
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action);
        var token = form.querySelector('input[name="_csrf"]');
        if (token) xhr.setRequestHeader("X-CSRF-Token", token.value);
        xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
        form.classList.add("busy");
        if (box) box.hidden = false;
        if (text) text.textContent = "正在上传…";
        xhr.upload.addEventListener("progress", function (ev) {
          if (!ev.lengthComputable) return;
          var pct = Math.round(ev.loaded / ev.total * 100);
          if (bar) bar.value = pct;
          if (text) text.textContent = "已上传 " + pct + "%（" + (ev.loaded / 1048576).toFixed(1) + " / " + (ev.total / 1048576).toFixed(1) + " MB）";
        });
        xhr.upload.addEventListener("load", function () {
          if (bar) bar.removeAttribute("value");  // indeterminate while the server checks the file
          if (text) text.textContent = "上传完成，正在校验并导入…";
        });
        xhr.addEventListener("load", function () {
          var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
          var main = doc.querySelector("main");
          if (!main) {
            form.classList.remove("busy");
            if (text) text.textContent = "服务器返回了无法识别的内容（" + xhr.status + "）";
            return;
          }
          document.querySelector("main").replaceWith(main);
          if (doc.title) document.title = doc.title;
          bind(main);
          var first = main.querySelector("#import-result, #import-errors, #form-error");
          if (first) first.scrollIntoView({ block: "start" });
        });
        xhr.addEventListener("error", function () {
          form.classList.remove("busy");
          if (text) text.textContent = "上传失败：网络错误，请重试";
        });
        xhr.send(data);
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { bind(document); });
  else bind(document);
})();

// SPDX-License-Identifier: MIT
// login.js - the sign-in page's behaviour: sign in with JSON (POST
// /api/login) and go on to the review pages (/), or, for a browser that
// has a session already, show whose it is (GET /api/me), sign out with
// the session's CSRF token (POST /api/logout, X-CSRF-Token), and switch
// between Chinese and English. The session cookie is HttpOnly: this
// script never sees it; it keeps only the CSRF token, in memory. The
// tools it shares with the review pages (words, requests) are in
// common.js, loaded first.
"use strict";

(function () {
  var words = {
    zh: {
      title: "乡镇调解台账", signin: "登录", name: "用户名", password: "密码",
      submit: "登录", welcome: "已登录", as: "当前用户：", logout: "退出登录",
      switchTo: "English", reviewer: "审阅员", admin: "管理员",
      auth: "用户名或密码错误。", disabled: "此账户已停用，请联系管理员。",
      locked: "登录失败次数过多，账户已暂时锁定。请在 {s} 秒后再试。",
      network: "无法连接到服务器，请稍后再试。", failed: "出错了（{status}），请稍后再试。",
      session: "登录已过期，请重新登录。", pageTitle: "乡镇调解台账 · 登录"
    },
    en: {
      title: "Township mediation ledger", signin: "Sign in", name: "Name",
      password: "Password", submit: "Sign in", welcome: "Signed in", as: "Signed in as ",
      logout: "Sign out", switchTo: "中文", reviewer: "reviewer", admin: "administrator",
      auth: "Wrong name or password.", disabled: "This account is disabled; ask the administrator.",
      locked: "Too many failed sign-ins: the account is locked. Try again in {s} seconds.",
      network: "The hub cannot be reached; try again later.",
      failed: "Something went wrong ({status}); try again later.",
      session: "The session has ended; sign in again.", pageTitle: "Township ledger · Sign in"
    }
  };
  var H = hamlet;
  var say = H.speak(words);
  var $ = H.$;
  var csrf = "";
  var role = "";

  function render() {
    H.translate();
    document.title = say("pageTitle");
    $("role").textContent = role ? say(role) : "";
  }

  function showSession(data) {
    csrf = data.csrf;
    role = data.role;
    $("who").textContent = data.user;
    $("login").hidden = true;
    $("session").hidden = false;
    $("session-message").textContent = "";
    render();
  }

  function showLogin(message) {
    csrf = "";
    role = "";
    $("session").hidden = true;
    $("login").hidden = false;
    $("message").textContent = message || "";
    $("password").value = "";
    $("name").focus();
  }

  // Rejects when the hub cannot be reached.
  function request(method, path, body) {
    return H.send(method, path, body, csrf || null);
  }

  function refusal(r) {
    if (r.status === 401 && r.data.error === "auth") { return say("auth"); }
    if (r.status === 401) { return say("session"); }
    if (r.status === 403 && r.data.error === "disabled") { return say("disabled"); }
    if (r.status === 429) { return say("locked", { s: r.retry || "?" }); }
    return say("failed", { status: r.status });
  }

  function signIn(event) {
    event.preventDefault();
    var button = $("submit");
    button.disabled = true;
    $("message").textContent = "";
    request("POST", "/api/login", { name: $("name").value, password: $("password").value })
      .then(function (r) {
        if (r.status === 200) { location.replace("/"); } else {
          $("message").textContent = refusal(r);
          $("password").value = "";
          $("password").focus();
        }
      }, function () { $("message").textContent = say("network"); })
      .then(function () { button.disabled = false; });
  }

  function signOut() {
    request("POST", "/api/logout").then(function (r) {
      if (r.status === 200 || r.status === 401) { showLogin(""); } else {
        $("session-message").textContent = refusal(r);
      }
    }, function () { $("session-message").textContent = say("network"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    H.languages(render);
    $("login").addEventListener("submit", signIn);
    $("logout").addEventListener("click", signOut);
    request("GET", "/api/me").then(function (r) {
      if (r.status === 200) { showSession(r.data); } else { showLogin(""); }
    }, function () { showLogin(""); });
  });
}());

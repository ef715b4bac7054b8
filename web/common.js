// SPDX-License-Identifier: MIT
// common.js - the tools that the township's review pages (app.js,
// login.js: the hub) and the village's pages (village.js: hamlet ui) share,
// in one global object, hamlet. Each page loads this file from its own
// server (/assets/common.js, before its own script) and hands it its own
// words with hamlet.speak(); the mechanism is shared, the words are not.
// Text is only ever set as text (textContent), never parsed as HTML.
// The language (Chinese first, English on request) is remembered in
// localStorage under the same key on both sites.
"use strict";

var hamlet = (function () {
  var self = {
    lang: "zh",  // "zh" or "en": the page's language now
    vocab: null  // the ledger's vocabulary, once the page has loaded it
  };
  var words = { zh: {}, en: {} };

  function $(id) { return document.getElementById(id); }

  // The page's words, { zh: {key: text}, en: {...} }; returns say().
  function speak(pageWords) {
    words = pageWords;
    return say;
  }

  // say("total", {n: 3}): the word in the page's language (Chinese when
  // English lacks it, the key when both do), each {name} replaced.
  function say(key, values) {
    var text = words[self.lang][key] || words.zh[key] || key;
    Object.keys(values || {}).forEach(function (k) {
      text = text.split("{" + k + "}").join(String(values[k]));
    });
    return text;
  }

  // el("tag", {attr: value, onclick: fn}, child...): children are elements
  // or text (set as text, never as HTML). "value" sets the control's value
  // (a textarea has no value attribute).
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) { return; }
      if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), v); } else if (k === "text") {
        node.textContent = v;
      } else if (k === "value") { node.value = v; } else {
        node.setAttribute(k, v === true ? "" : String(v));
      }
    });
    for (var i = 2; i < arguments.length; i++) { append(node, arguments[i]); }
    return node;
  }

  function append(node, child) {
    if (child === null || child === undefined || child === false) { return; }
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }

  // The page's view (#view) becomes node.
  function show(node) {
    var view = $("view");
    view.textContent = "";
    append(view, node);
  }

  // The notice above the view: text, in green when ok; none when empty.
  function notice(text, ok) {
    var n = $("notice");
    n.textContent = text || "";
    n.className = ok ? "notice ok" : "notice";
    n.hidden = !text;
  }

  // A list of facts, [[key, value], ...]; the empty ones left out.
  function facts(pairs) {
    var dl = el("dl", { class: "facts" });
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === "") { return; }
      append(dl, [el("dt", {}, say(p[0])), el("dd", {}, p[1])]);
    });
    return dl;
  }

  // The word of the ledger's vocabulary ("statuses", "mediating"), or the
  // name itself when the vocabulary lacks it.
  function word(list, name) {
    var vocab = self.vocab;
    if (name === null || name === undefined || name === "") { return ""; }
    if (list === "statuses" && vocab && vocab.status_aliases && vocab.status_aliases[name]) {
      name = vocab.status_aliases[name];
    }
    var found = (vocab && vocab[list] || []).filter(function (w) {
      return w.name === String(name);
    })[0];
    return found ? found[self.lang] : String(name);
  }

  // The <option>s of a vocabulary list, selected chosen; first an empty
  // one that says blank, unless blank is null; only the names in only,
  // when given.
  function options(list, selected, blank, only) {
    var out = blank === null ? [] : [el("option", { value: "" }, blank)];
    (self.vocab && self.vocab[list] || []).forEach(function (w) {
      if (only && only.indexOf(w.name) < 0) { return; }
      out.push(el("option", { value: w.name, selected: String(selected) === w.name }, w[self.lang]));
    });
    return out;
  }

  // A time in milliseconds as the page's language writes it; "never" for 0.
  function when(ms) {
    if (!ms) { return say("never"); }
    return new Date(ms).toLocaleString(self.lang === "zh" ? "zh-CN" : "en-GB", { hour12: false });
  }

  function bytes(n) {
    if (n < 1024) { return n + " B"; }
    if (n < 1048576) { return (n / 1024).toFixed(1) + " KB"; }
    return (n / 1048576).toFixed(1) + " MB";
  }

  // The address's fragment, "#/case/ID?q=x" -> {parts: ["case", "ID"],
  // params: {q: "x"}}; home when there is none.
  function fragment(home) {
    var hash = location.hash.replace(/^#/, "") || home;
    var q = hash.indexOf("?");
    var path = q < 0 ? hash : hash.slice(0, q);
    var params = {};
    new URLSearchParams(q < 0 ? "" : hash.slice(q + 1)).forEach(function (v, k) { params[k] = v; });
    return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), params: params };
  }

  // {q: "x", all: true, page: ""} -> "?q=x&all=1" (the empty ones left out).
  function query(params) {
    var s = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      if (params[k] !== "" && params[k] !== null && params[k] !== undefined && params[k] !== false) {
        s.set(k, params[k] === true ? "1" : params[k]);
      }
    });
    var text = s.toString();
    return text ? "?" + text : "";
  }

  // send(method, path, body, csrf): JSON to the page's own server (body
  // when given), never from a cache; csrf, unless null, in X-CSRF-Token.
  // Resolves {status, data, retry}: data {} when the answer is not JSON,
  // retry the Retry-After header. Rejects when the server cannot be reached.
  function send(method, path, body, csrf) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (csrf !== null && csrf !== undefined) { headers["X-CSRF-Token"] = csrf; }
    return fetch(path, {
      method: method, headers: headers, credentials: "same-origin", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        return { status: resp.status, data: data, retry: resp.headers.get("Retry-After") };
      });
    });
  }

  // As send(), but a server out of reach answers {status: 0, data: {}}.
  function request(method, path, body, csrf) {
    return send(method, path, body, csrf).then(null, function () { return { status: 0, data: {} }; });
  }

  // Why a request failed, in the page's words (errNetwork, errSession,
  // errCsrf, errFailed); a page tells its own refusals first.
  function failure(r) {
    if (r.status === 0) { return say("errNetwork"); }
    if (r.status === 401) { return say("errSession"); }
    if (r.status === 403 && r.data.error === "csrf") { return say("errCsrf"); }
    return say("errFailed", { status: r.status, message: r.data.message || "" });
  }

  function setLang(next) {
    self.lang = next === "en" ? "en" : "zh";
    try { localStorage.setItem("hamlet.lang", self.lang); } catch (e) { /* private mode */ }
  }

  // The page's fixed words ([data-text]), its language and the switch
  // (#lang), which offers the other language.
  function translate() {
    document.documentElement.lang = self.lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-text]").forEach(function (node) {
      node.textContent = say(node.getAttribute("data-text"));
    });
    var sw = $("lang");
    sw.textContent = say("switchTo");
    sw.lang = self.lang === "zh" ? "en" : "zh-CN";
  }

  // The language remembered (Chinese if none), render() now, and the
  // switch: the other language, render(), then after() when given.
  function languages(render, after) {
    var saved = null;
    try { saved = localStorage.getItem("hamlet.lang"); } catch (e) { /* private mode */ }
    setLang(saved || "zh");
    render();
    $("lang").addEventListener("click", function () {
      setLang(self.lang === "zh" ? "en" : "zh");
      render();
      if (after) { after(); }
    });
  }

  self.$ = $;
  self.speak = speak;
  self.say = say;
  self.el = el;
  self.append = append;
  self.show = show;
  self.notice = notice;
  self.facts = facts;
  self.word = word;
  self.options = options;
  self.when = when;
  self.bytes = bytes;
  self.fragment = fragment;
  self.query = query;
  self.send = send;
  self.request = request;
  self.failure = failure;
  self.translate = translate;
  self.languages = languages;
  return self;
}());

// SPDX-License-Identifier: MIT
// app.js - the township's review pages. One page, six views chosen by the
// address's fragment (#/ledger?..., #/case/ID, #/conflicts, #/lists,
// #/figures, #/devices), each drawn from the hub's JSON (hub/web.h). Text
// from the ledger is only ever set as text (textContent), never parsed as
// HTML. Requests that change something carry the session's CSRF token; a
// session that has ended sends the browser to the sign-in page. Chinese
// first; the English switch is remembered in localStorage, like the
// sign-in page's. The tools it shares with login.js and the village's
// pages (DOM building, words, requests) are in common.js, loaded first.
"use strict";

(function () {
  var words = {
    zh: {
      title: "乡镇调解台账", navLedger: "台账", navConflicts: "冲突", navLists: "清单",
      navFigures: "统计", navDevices: "设备", logout: "退出登录", switchTo: "English",
      loading: "正在加载…", reviewer: "审阅员", admin: "管理员",
      village: "村", allVillages: "全部村", category: "类别", kind: "类型", status: "状态",
      klass: "等级", level: "责任层级", any: "全部", overdueOnly: "仅逾期",
      conflictOnly: "有冲突", search: "搜索标题、事实、记录", find: "查询", reset: "清空",
      caseNo: "编号", caseTitle: "标题", received: "登记日期", due: "期限", overdue: "逾期",
      conflicts: "冲突", total: "共 {n} 件", page: "第 {p} / {n} 页", prev: "上一页",
      next: "下一页", none: "没有记录。", classN: "{n}类",
      facts: "事实经过", claims: "请求事项", outcome: "处理结果", parties: "当事人",
      role: "身份", name: "姓名", phone: "电话", idNo: "身份证号", address: "住址",
      reveal: "显示完整号码", revealNote: "查看完整号码会记入案件记录。",
      events: "办理记录", date: "日期", note: "内容", agreements: "调解协议",
      complete: "要素齐全", incomplete: "缺少：", signed: "已签署（锁定）", unsigned: "未签署",
      history: "修改记录", hubTime: "汇总时间", deviceTime: "设备时间", device: "设备",
      what: "记录", field: "字段", before: "原值", after: "新值", print: "打印案卷",
      actions: "乡镇处理", deadline: "督办期限", setDeadline: "设定期限",
      liftDeadline: "取消期限", setLevel: "设定层级", correction: "需要整改",
      correctionAsk: "整改意见", sendCorrection: "要求整改", clearCorrection: "整改完成",
      correctionReply: "村里答复", mediator: "调解员", mediatorId: "调解员编号（可选）",
      assign: "指派", saved: "已保存，将在村里下次同步时送达。", noteOpt: "说明（可选）",
      dueOn: "应办结日期", acceptedOn: "受理日期", concludedOn: "办结日期",
      createdAt: "登记时间", channel: "来源", receivedBy: "首问责任人",
      resultNotice: "书面告知日期", opinion: "当事人意见", caseFile: "一人一案 案卷",
      printedOn: "打印时间：", masked: "号码已隐去", keepStanding: "保留原值",
      keepIncoming: "采用新值", writeValue: "写入其他值", standing: "原值（先到）",
      incoming: "新值（后到）", showResolved: "显示已处理", resolved: "已处理：{r}",
      decided: "已处理，决定将在村里下次同步时送达。", openConflicts: "待处理冲突",
      list: "清单", listOverdue: "逾期案件", listDue: "即将到期", listFollowups: "应回访",
      listCorrections: "需要整改", days: "天数", state: "情况", daysLeft: "天",
      stateOverdue: "逾期", stateDue_soon: "即将到期", stateOn_time: "按期", stateDue: "应办",
      stateDone: "已完成", month: "月份", year: "年份", period: "统计期间", show: "显示",
      csv: "下载 CSV", figReceived: "受理", figConcluded: "办结", figParticipation: "参调率",
      figSuccess: "调解成功率", figSatisfaction: "满意率", figOverdue: "逾期",
      figFollowupsDue: "应回访", figFollowupsDone: "已回访", totalRow: "合计",
      chartCategory: "按类别受理件数（合计）", chartRates: "三率与目标（虚线）",
      noData: "无数据", asOf: "截至 {d}", label: "名称", caseCode: "编号代码",
      enrolled: "登记时间", lastSync: "最近同步", syncs: "同步次数", dataIn: "上传",
      dataOut: "下载", clockOffset: "时钟偏差", lastResult: "最近结果", errors: "待处理错误", revoke: "停用",
      revokeAsk: "停用这台设备？它将无法再同步。", addDevice: "添加设备", add: "添加",
      enrolCode: "登记码（一次有效，{d} 天内）：", never: "从未", statusPending: "待登记",
      statusActive: "使用中", statusRevoked: "已停用", seconds: "{n} 秒",
      errSession: "登录已过期，请重新登录。", errNetwork: "无法连接到服务器，请稍后再试。",
      errFailed: "出错了（{status}）：{message}", errCsrf: "页面已过期，请刷新后重试。",
      errRole: "只有管理员可以这样做。", notFound: "没有这个案件。", hub: "乡镇", unlisted: "未列入的类别"
    },
    en: {
      title: "Township mediation ledger", navLedger: "Ledger", navConflicts: "Conflicts",
      navLists: "Lists", navFigures: "Figures", navDevices: "Devices", logout: "Sign out",
      switchTo: "中文", loading: "Loading…", reviewer: "reviewer", admin: "administrator",
      village: "Village", allVillages: "All villages", category: "Category", kind: "Kind",
      status: "Status", klass: "Class", level: "Level", any: "Any", overdueOnly: "Overdue only",
      conflictOnly: "With conflicts", search: "Search titles, facts, notes", find: "Search",
      reset: "Clear", caseNo: "Number", caseTitle: "Title", received: "Received", due: "Due",
      overdue: "Overdue", conflicts: "Conflicts", total: "{n} cases", page: "Page {p} of {n}",
      prev: "Previous", next: "Next", none: "Nothing to show.", classN: "Class {n}",
      facts: "Facts", claims: "Claims", outcome: "Outcome", parties: "Parties", role: "Role",
      name: "Name", phone: "Phone", idNo: "ID card", address: "Address",
      reveal: "Show the numbers in full", revealNote: "Showing the numbers is recorded on the case.",
      events: "Events", date: "Date", note: "Note", agreements: "Agreements",
      complete: "Complete", incomplete: "Missing: ", signed: "Signed (locked)",
      unsigned: "Not signed", history: "Change history", hubTime: "Hub time",
      deviceTime: "Device time", device: "Device", what: "Record", field: "Field",
      before: "Before", after: "After", print: "Print the case file", actions: "Township actions",
      deadline: "Deadline", setDeadline: "Set deadline", liftDeadline: "Lift deadline",
      setLevel: "Set level", correction: "Needs correction", correctionAsk: "What to correct",
      sendCorrection: "Ask for correction", clearCorrection: "Correction done",
      correctionReply: "Village's answer", mediator: "Mediator",
      mediatorId: "Mediator id (optional)", assign: "Assign",
      saved: "Saved; it reaches the village at its next sync.", noteOpt: "Note (optional)",
      dueOn: "Due on", acceptedOn: "Accepted on", concludedOn: "Concluded on",
      createdAt: "Registered", channel: "Channel", receivedBy: "Received by",
      resultNotice: "Result notice", opinion: "Party's opinion", caseFile: "Case file",
      printedOn: "Printed: ", masked: "numbers masked", keepStanding: "Keep standing",
      keepIncoming: "Take incoming", writeValue: "Write another value",
      standing: "Standing (first)", incoming: "Incoming (later)", showResolved: "Show decided",
      resolved: "Decided: {r}", decided: "Decided; it reaches the village at its next sync.",
      openConflicts: "Open conflicts", list: "List", listOverdue: "Overdue", listDue: "Due soon",
      listFollowups: "Follow-ups due", listCorrections: "Needs correction", days: "Days",
      state: "State", daysLeft: "days", stateOverdue: "overdue", stateDue_soon: "due soon",
      stateOn_time: "on time", stateDue: "due", stateDone: "done", month: "Month",
      year: "Year", period: "Period", show: "Show", csv: "Download CSV",
      figReceived: "Received", figConcluded: "Concluded", figParticipation: "Participation",
      figSuccess: "Success", figSatisfaction: "Satisfaction", figOverdue: "Overdue",
      figFollowupsDue: "Follow-ups due", figFollowupsDone: "Follow-ups done", totalRow: "Total",
      chartCategory: "Received by category (total)",
      chartRates: "The three rates and their targets (dashed)", noData: "no data",
      asOf: "as of {d}", label: "Label", caseCode: "Case code", enrolled: "Enrolled",
      lastSync: "Last sync", syncs: "Syncs", dataIn: "Up", dataOut: "Down",
      clockOffset: "Clock offset", lastResult: "Last result", errors: "Pending errors", revoke: "Revoke",
      revokeAsk: "Revoke this device? It can no longer sync.", addDevice: "Add a device",
      add: "Add", enrolCode: "Enrolment code (once, within {d} days):", never: "never",
      statusPending: "pending", statusActive: "active", statusRevoked: "revoked",
      seconds: "{n} s", errSession: "The session has ended; sign in again.",
      errNetwork: "The hub cannot be reached; try again later.",
      errFailed: "Something went wrong ({status}): {message}",
      errCsrf: "The page is out of date; reload it and try again.",
      errRole: "Only an administrator may do this.", notFound: "No such case.", hub: "township", unlisted: "not listed"
    }
  };
  var H = hamlet;
  var say = H.speak(words);
  var $ = H.$, el = H.el, append = H.append, show = H.show, notice = H.notice;
  var facts = H.facts, when = H.when, bytes = H.bytes, query = H.query;
  var me = { user: "", role: "", csrf: "" };
  var villages = [];

  // ---- small tools ----

  // The word of the ledger's vocabulary ("statuses", "mediating"); the
  // hub's own category "unlisted" is not in it.
  function word(list, name) {
    if (list === "categories" && name === "unlisted") { return say("unlisted"); }
    return H.word(list, name);
  }

  function options(list, selected, blank) {
    return H.options(list, selected, blank || say("any"));
  }

  function villageOptions(selected, blank) {
    return [el("option", { value: "" }, blank || say("allVillages"))].concat(
      villages.map(function (v) {
        return el("option", { value: v.code, selected: selected === v.code }, v.name || v.code);
      }));
  }

  function villageName(code) {
    var v = villages.filter(function (x) { return x.code === code; })[0];
    return v ? v.name || v.code : code || "";
  }

  // The address's fragment: "#/ledger?q=x" -> {parts: ["ledger"], params: {q: "x"}}.
  function fragment() { return H.fragment("/ledger"); }

  // ---- the hub ----

  // A session that has ended sends the browser to the sign-in page.
  function request(method, path, body) {
    return H.request(method, path, body, method !== "GET" && me.csrf ? me.csrf : null).then(function (r) {
      if (r.status === 401) { location.replace("/login"); }
      return r;
    });
  }

  function failure(r) {
    if (r.status === 403 && r.data.error === "role") { return say("errRole"); }
    return H.failure(r);
  }

  // GET path; fn(data) when it answers 200, the reason in the notice if
  // not. (A notice of success stays: the view is often drawn again after
  // a decision, and the reviewer should still read that it was saved.)
  function load(path, fn) {
    return request("GET", path).then(function (r) {
      if (r.status === 200) { fn(r.data); } else { notice(failure(r)); }
    });
  }

  // ---- the ledger ----

  var caseColumns = [
    ["case_no", "caseNo", "case_no"], ["village_name", "village", "village"],
    ["title", "caseTitle", null], ["kind", "kind", null], ["category", "category", null],
    ["severity", "klass", null], ["status", "status", "status"], ["level", "level", "level"],
    ["created_at", "received", "received"], ["due_on", "due", "deadline"]
  ];

  function ledgerView(params) {
    var form = el("form", { class: "filters", id: "filters", role: "search" },
      el("label", {}, say("village"), el("select", { name: "village" }, villageOptions(params.village))),
      el("label", {}, say("category"), el("select", { name: "category" }, options("categories", params.category))),
      el("label", {}, say("kind"), el("select", { name: "kind" }, options("kinds", params.kind))),
      el("label", {}, say("status"), el("select", { name: "status" }, options("statuses", params.status))),
      el("label", {}, say("klass"), el("select", { name: "class" },
        [el("option", { value: "" }, say("any"))].concat([1, 2, 3].map(function (n) {
          return el("option", { value: n, selected: params["class"] === String(n) }, say("classN", { n: n }));
        })))),
      el("label", {}, say("level"), el("select", { name: "level" }, options("levels", params.level))),
      el("label", { class: "check" }, el("input", { type: "checkbox", name: "overdue", checked: params.overdue === "1" }), say("overdueOnly")),
      el("label", { class: "check" }, el("input", { type: "checkbox", name: "conflict", checked: params.conflict === "1" }), say("conflictOnly")),
      el("label", {}, say("search"), el("input", { type: "search", name: "q", value: params.q || "", maxlength: 200 })),
      el("button", { type: "submit" }, say("find")),
      el("button", { type: "button", class: "secondary", onclick: function () { location.hash = "#/ledger"; } }, say("reset")));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var p = {};
      new FormData(form).forEach(function (v, k) { p[k] = v === "on" ? "1" : v; });
      p.sort = params.sort; p.dir = params.dir;
      location.hash = "#/ledger" + query(p);
    });
    var table = el("div", { id: "ledger" }, el("p", { class: "muted" }, say("loading")));
    show([el("h2", {}, say("navLedger")), el("section", { class: "box no-print" }, form), table]);
    load("/api/cases" + query(params), function (data) { ledgerTable(table, params, data); });
  }

  function ledgerTable(box, params, data) {
    var pages = Math.max(1, Math.ceil(data.total / data.per));
    function go(changes) {
      var p = Object.assign({}, params, changes);
      location.hash = "#/ledger" + query(p);
    }
    var head = el("tr", {}, caseColumns.map(function (c) {
      if (!c[2]) { return el("th", {}, say(c[1])); }
      var sorted = (params.sort || "received") === c[2];
      var dir = sorted ? (params.dir === "desc" ? "descending" : "ascending") : null;
      return el("th", {}, el("button", {
        type: "button", class: "sort", "aria-sort": dir,
        onclick: function () {
          go({ sort: c[2], dir: sorted && params.dir !== "desc" ? "desc" : "asc", page: "" });
        }
      }, say(c[1])));
    }), el("th", {}, say("conflicts")));
    var rows = data.cases.map(function (k) {
      return el("tr", { class: k.overdue ? "overdue" : null, "data-id": k.id },
        el("td", {}, el("a", { href: "#/case/" + encodeURIComponent(k.id) }, k.case_no || k.id.slice(0, 8))),
        el("td", {}, k.village_name || k.village),
        el("td", {}, el("a", { href: "#/case/" + encodeURIComponent(k.id) }, k.title || "")),
        el("td", {}, word("kinds", k.kind)),
        el("td", {}, word("categories", k.category)),
        el("td", {}, k.severity ? say("classN", { n: k.severity }) : ""),
        el("td", {}, word("statuses", k.status)),
        el("td", {}, word("levels", k.level)),
        el("td", {}, (k.created_at || "").slice(0, 10)),
        el("td", {}, k.due_on || "", k.overdue ? el("span", { class: "badge bad" }, say("overdue")) : null),
        el("td", { class: "num" }, k.conflicts ? el("span", { class: "badge warn" }, k.conflicts) : ""));
    });
    var page = data.page;
    var pager = el("div", { class: "pager" },
      el("span", { id: "total" }, say("total", { n: data.total })),
      el("button", { type: "button", class: "secondary", disabled: page <= 1, onclick: function () { go({ page: page - 1 }); } }, say("prev")),
      el("span", {}, say("page", { p: page, n: pages })),
      el("button", { type: "button", class: "secondary", disabled: page >= pages, onclick: function () { go({ page: page + 1 }); } }, say("next")));
    box.textContent = "";
    append(box, [pager, data.cases.length ? el("table", { id: "cases" }, el("thead", {}, head), el("tbody", {}, rows))
      : el("p", { class: "muted" }, say("none"))]);
  }

  // ---- a case ----

  function caseView(id) {
    show(el("p", { class: "muted" }, say("loading")));
    load("/api/case" + query({ id: id }), drawCase);
  }

  function textBlock(key, text) {
    return text ? [el("h3", {}, say(key)), el("p", { class: "text" }, text)] : null;
  }

  function drawCase(data) {
    var k = data["case"];
    var actions = caseActions(k);
    var parties = el("table", { id: "parties" },
      el("thead", {}, el("tr", {}, ["role", "name", "phone", "idNo", "address"].map(function (h) { return el("th", {}, say(h)); }))),
      el("tbody", {}, data.parties.map(function (p) {
        return el("tr", {}, el("td", {}, p.role || ""), el("td", {}, p.name || ""), el("td", { class: "phone" }, p.phone || ""),
          el("td", { class: "id-no" }, p.id_no || ""), el("td", {}, p.address || ""));
      })));
    var reveal = k.masked ? el("p", { class: "no-print" }, el("button", {
      type: "button", class: "secondary", id: "reveal",
      onclick: function () {
        request("POST", "/api/case/reveal", { id: k.id }).then(function (r) {
          if (r.status === 200) { notice(""); drawCase(r.data); } else { notice(failure(r)); }
        });
      }
    }, say("reveal")), " ", el("span", { class: "muted" }, say("revealNote"))) : null;
    var events = el("table", { id: "events" },
      el("thead", {}, el("tr", {}, el("th", {}, say("date")), el("th", {}, say("kind")), el("th", {}, say("note")))),
      el("tbody", {}, data.events.map(function (e) {
        return el("tr", {}, el("td", {}, e.date || ""), el("td", {}, word("event_kinds", e.kind)), el("td", { class: "text" }, e.note || ""));
      })));
    var agreements = data.agreements.map(function (a) {
      return el("div", { class: "agreement" },
        el("p", {}, a.complete ? el("span", { class: "badge ok" }, say("complete"))
          : el("span", { class: "badge bad" }, say("incomplete") + (a.missing || []).join("、")),
          " ", el("span", { class: "badge" }, a.locked ? say("signed") : say("unsigned"))),
        facts([["parties", a.parties_details], ["facts", a.facts_and_liability],
          ["note", a.rights_obligations], ["date", a.performance_deadline]]));
    });
    var conflicts = data.conflicts.length ? el("section", { class: "box no-print" },
      el("h3", {}, say("conflicts")), conflictTable(data.conflicts, function () { caseView(k.id); })) : null;
    var history = el("table", { id: "history" },
      el("thead", {}, el("tr", {}, ["hubTime", "deviceTime", "device", "what", "field", "before", "after"].map(function (h) {
        return el("th", {}, say(h));
      }))),
      el("tbody", {}, [].concat.apply([], data.history.map(function (h) {
        var fields = h.fields && h.fields.length ? h.fields : [{ column: h.op, before: null, after: null }];
        return fields.map(function (f, i) {
          return el("tr", {}, el("td", {}, i ? "" : when(h.hub_ms)), el("td", {}, i ? "" : when(h.device_ms)),
            el("td", {}, i ? "" : (h.device_label || (h.device === "hub" ? say("hub") : h.device.slice(0, 8)))),
            el("td", {}, i ? "" : h.what), el("td", {}, f.column),
            el("td", { class: "value" }, f.before === null || f.before === undefined ? "" : String(f.before)),
            el("td", { class: "value" }, f.after === null || f.after === undefined ? "" : String(f.after)));
        });
      }))));
    var badges = [el("span", { class: "badge" }, word("statuses", k.status)),
      k.overdue ? el("span", { class: "badge bad" }, say("overdue")) : null,
      k.correction ? el("span", { class: "badge warn" }, say("correction")) : null];
    show([
      el("p", { class: "print-only" }, say("caseFile"), " · ", say("printedOn"), when(Date.now())),
      el("h2", { id: "case-title" }, (k.case_no ? k.case_no + " " : "") + (k.title || ""), " ", badges),
      el("p", { class: "no-print" }, el("button", { type: "button", class: "secondary", onclick: function () { window.print(); } }, say("print"))),
      el("section", { class: "box" }, facts([
        ["village", k.village_name || villageName(k.village)], ["kind", word("kinds", k.kind)],
        ["channel", word("channels", k.channel)], ["category", word("categories", k.category)],
        ["klass", k.severity ? say("classN", { n: k.severity }) : ""], ["level", word("levels", k.level)],
        ["status", word("statuses", k.status)], ["receivedBy", k.received_by],
        ["mediator", k.mediator_name], ["createdAt", (k.created_at || "").slice(0, 10)],
        ["acceptedOn", k.accepted_on], ["concludedOn", k.concluded_on], ["dueOn", k.due_on],
        ["deadline", k.deadline], ["resultNotice", k.result_notice_on],
        ["opinion", word("opinions", k.opinion)], ["correction", k.correction],
        ["correctionReply", k.correction_reply]]),
        textBlock("facts", k.facts), textBlock("claims", k.claims), textBlock("outcome", k.outcome)),
      actions,
      el("section", { class: "box" }, el("h3", {}, say("parties")), reveal, parties),
      el("section", { class: "box" }, el("h3", {}, say("events")), data.events.length ? events : el("p", { class: "muted" }, say("none"))),
      agreements.length ? el("section", { class: "box" }, el("h3", {}, say("agreements")), agreements) : null,
      conflicts,
      el("section", { class: "box" }, el("h3", {}, say("history")), history)
    ]);
  }

  // The township's actions on case k; each answers the case, drawn again.
  function caseActions(k) {
    var message = el("p", { class: "message", role: "status", id: "action-message" });
    function act(path, body, button) {
      button.disabled = true;
      body.id = k.id;
      request("POST", path, body).then(function (r) {
        button.disabled = false;
        if (r.status === 200) { drawCase(r.data); notice(say("saved"), true); } else { message.textContent = failure(r); }
      });
    }
    function form(id, fields, buttons) {
      var f = el("form", { class: "inline", id: id }, fields, buttons);
      f.addEventListener("submit", function (e) { e.preventDefault(); });
      return f;
    }
    var date = el("input", { type: "date", name: "date", value: k.deadline || "" });
    var dnote = el("input", { name: "note", maxlength: 1000, placeholder: say("noteOpt") });
    var setD = el("button", { type: "submit", onclick: function () { if (date.value) { act("/api/case/deadline", { date: date.value, note: dnote.value || null }, setD); } } }, say("setDeadline"));
    var liftD = el("button", { type: "button", class: "secondary", onclick: function () { act("/api/case/deadline", { date: null, note: dnote.value || null }, liftD); } }, say("liftDeadline"));
    var level = el("select", { name: "level" }, options("levels", k.level, "—"));
    var setL = el("button", { type: "submit", onclick: function () { if (level.value) { act("/api/case/level", { level: Number(level.value) }, setL); } } }, say("setLevel"));
    var comment = el("textarea", { name: "comment", maxlength: 1000 });
    comment.value = k.correction || "";
    var ask = el("button", { type: "submit", onclick: function () { if (comment.value.trim()) { act("/api/case/correction", { comment: comment.value.trim() }, ask); } } }, say("sendCorrection"));
    var clear = el("button", { type: "button", class: "secondary", disabled: !k.correction, onclick: function () { act("/api/case/correction", { comment: null }, clear); } }, say("clearCorrection"));
    var mname = el("input", { name: "mediator", maxlength: 50, value: k.mediator_name || "" });
    var mid = el("input", { name: "mediator_id", maxlength: 64, value: k.mediator_id || "" });
    var assign = el("button", { type: "submit", onclick: function () { if (mname.value.trim()) { act("/api/case/mediator", { name: mname.value.trim(), mediator_id: mid.value.trim() || null }, assign); } } }, say("assign"));
    return el("section", { class: "box no-print", id: "actions" }, el("h3", {}, say("actions")),
      form("deadline-form", [el("label", {}, say("deadline"), date), el("label", {}, say("noteOpt"), dnote)], [setD, liftD]),
      form("level-form", [el("label", {}, say("level"), level)], [setL]),
      form("correction-form", [el("label", {}, say("correctionAsk"), comment)], [ask, clear]),
      form("mediator-form", [el("label", {}, say("mediator"), mname), el("label", {}, say("mediatorId"), mid)], [assign]),
      message);
  }

  // ---- conflicts ----

  function conflictTable(list, done) {
    function decide(c, choice, value, button) {
      button.disabled = true;
      request("POST", "/api/conflicts/resolve", { id: c.id, choice: choice, value: value }).then(function (r) {
        button.disabled = false;
        if (r.status === 200) { notice(say("decided"), true); done(); } else { notice(failure(r)); }
      });
    }
    function who(label, device) {
      return label || (device === "hub" ? say("hub") : (device || "").slice(0, 8));
    }
    return el("table", { class: "conflicts" },
      el("thead", {}, el("tr", {}, el("th", {}, say("caseNo")), el("th", {}, say("field")),
        el("th", {}, say("standing")), el("th", {}, say("incoming")), el("th", {}, ""))),
      el("tbody", {}, list.map(function (c) {
        var other = el("input", { name: "value", maxlength: 500, "aria-label": say("writeValue") });
        var buttons = c.resolved_ms ? el("span", { class: "muted" }, say("resolved", { r: c.resolution || c.winner }))
          : el("div", { class: "decide" },
            el("button", { type: "button", class: "keep-standing", onclick: function (e) { decide(c, "standing", undefined, e.target); } }, say("keepStanding")), " ",
            el("button", { type: "button", class: "keep-incoming", onclick: function (e) { decide(c, "incoming", undefined, e.target); } }, say("keepIncoming")),
            el("div", { class: "inline" }, other, " ",
              el("button", { type: "button", class: "secondary write-value", onclick: function (e) { if (other.value) { decide(c, "value", other.value, e.target); } } }, say("writeValue"))));
        return el("tr", { "data-conflict": c.id },
          el("td", {}, c.case_id ? el("a", { href: "#/case/" + encodeURIComponent(c.case_id) }, c.case_no || c.title || c.case_id.slice(0, 8)) : "",
            el("div", { class: "muted" }, villageName(c.village))),
          el("td", {}, c.table + "." + c.column),
          el("td", {}, el("div", { class: "value standing" }, c.standing === null ? "" : String(c.standing)), el("div", { class: "muted" }, who(c.standing_label, c.standing_device))),
          el("td", {}, el("div", { class: "value incoming" }, c.incoming === null ? "" : String(c.incoming)), el("div", { class: "muted" }, who(c.incoming_label, c.incoming_device))),
          el("td", {}, buttons));
      })));
  }

  function conflictsView(params) {
    var all = el("input", { type: "checkbox", checked: params.all === "1", onchange: function () {
      location.hash = "#/conflicts" + query({ village: params.village, all: all.checked });
    } });
    var village = el("select", { onchange: function () {
      location.hash = "#/conflicts" + query({ village: village.value, all: params.all });
    } }, villageOptions(params.village));
    var box = el("div", {}, el("p", { class: "muted" }, say("loading")));
    show([el("h2", {}, say("openConflicts")),
      el("form", { class: "filters no-print" }, el("label", {}, say("village"), village),
        el("label", { class: "check" }, all, say("showResolved"))), box]);
    load("/api/conflicts" + query({ village: params.village, all: params.all }), function (data) {
      box.textContent = "";
      append(box, data.conflicts.length ? conflictTable(data.conflicts, function () { conflictsView(params); })
        : el("p", { class: "muted" }, say("none")));
    });
  }

  // ---- lists ----

  function listsView(params) {
    var which = params.which || "overdue";
    var names = { overdue: "listOverdue", due: "listDue", followups: "listFollowups", corrections: "listCorrections" };
    var pick = el("select", { name: "which" }, Object.keys(names).map(function (n) {
      return el("option", { value: n, selected: n === which }, say(names[n]));
    }));
    var village = el("select", { name: "village" }, villageOptions(params.village));
    var form = el("form", { class: "filters no-print" }, el("label", {}, say("list"), pick),
      el("label", {}, say("village"), village), el("button", { type: "submit" }, say("show")));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      location.hash = "#/lists" + query({ which: pick.value, village: village.value });
    });
    var box = el("div", {}, el("p", { class: "muted" }, say("loading")));
    show([el("h2", {}, say(names[which]) + (params.village ? " · " + villageName(params.village) : "")), form, box]);
    load("/api/list" + query({ which: which, village: params.village, lang: H.lang }), function (data) {
      box.textContent = "";
      append(box, !data.length ? el("p", { class: "muted" }, say("none")) : el("table", { id: "list" },
        el("thead", {}, el("tr", {}, ["village", "caseNo", "caseTitle", "status", "due", "state", "days"].map(function (h) { return el("th", {}, say(h)); }))),
        el("tbody", {}, data.map(function (c) {
          return el("tr", { class: c.state === "overdue" ? "overdue" : null, "data-id": c.id },
            el("td", {}, villageName(c.village)),
            el("td", {}, el("a", { href: "#/case/" + encodeURIComponent(c.id) }, c.case_no || c.id.slice(0, 8))),
            el("td", {}, c.title || ""), el("td", {}, word("statuses", c.status)), el("td", {}, c.due || ""),
            el("td", {}, say("state" + (c.state || "").charAt(0).toUpperCase() + (c.state || "").slice(1))),
            el("td", { class: "num" }, c.days === undefined || c.days === null ? "" : c.days));
        }))));
    });
  }

  // ---- figures ----

  var rateKeys = [["participation", "figParticipation"], ["success", "figSuccess"], ["satisfaction", "figSatisfaction"]];

  function figuresView(params) {
    var now = new Date();
    var period = params.year ? { year: params.year } : { month: params.month || now.toISOString().slice(0, 7) };
    var kind = el("select", { name: "by" }, el("option", { value: "month", selected: !!period.month }, say("month")),
      el("option", { value: "year", selected: !!period.year }, say("year")));
    var value = el("input", { name: "period", value: period.month || period.year, size: 8, pattern: "[0-9]{4}(-[0-9]{2})?" });
    var village = el("select", { name: "village" }, villageOptions(params.village));
    var form = el("form", { class: "filters no-print" }, el("label", {}, say("period"), kind), el("label", {}, "YYYY[-MM]", value),
      el("label", {}, say("village"), village), el("button", { type: "submit" }, say("show")));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var p = { village: village.value };
      p[kind.value] = kind.value === "year" ? value.value.slice(0, 4) : value.value;
      location.hash = "#/figures" + query(p);
    });
    var q = Object.assign({ village: params.village, lang: H.lang }, period);
    var box = el("div", {}, el("p", { class: "muted" }, say("loading")));
    show([el("h2", {}, say("navFigures")), form,
      el("p", { class: "no-print" }, el("a", { href: "/api/report.csv" + query(q), download: "", id: "csv" }, say("csv"))), box]);
    load("/api/report" + query(q), function (data) { drawFigures(box, data); });
  }

  function rateText(r) {
    return r && r.percent ? r.percent + " (" + r.num + "/" + r.den + ")" : say("noData");
  }

  function drawFigures(box, data) {
    var rows = data.villages.slice();
    if (data.total) { rows.push(data.total); }
    var table = el("table", { id: "figures" },
      el("thead", {}, el("tr", {}, el("th", {}, say("village")),
        ["figReceived", "figConcluded", "figParticipation", "figSuccess", "figSatisfaction", "figOverdue", "figFollowupsDue", "figFollowupsDone"].map(function (h) {
          return el("th", { class: "num" }, say(h));
        }))),
      el("tbody", {}, rows.map(function (v) {
        function cell(key, text, cls) { return el("td", { class: "num " + (cls || ""), "data-figure": key }, text); }
        function rate(key) {
          var r = v[key];
          return cell(key, rateText(r), r && r.meets === false ? "miss" : "");
        }
        return el("tr", { "data-village": v.village === null ? "" : v.village },
          el("td", {}, v.village === null ? say("totalRow") : v.name || v.village),
          cell("received", v.received), cell("concluded", v.concluded), rate("participation"),
          rate("success"), rate("satisfaction"), cell("overdue", v.overdue),
          cell("followups_due", v.followups_due), cell("followups_done", v.followups_done));
      })));
    var source = data.total || data.villages[0] || {};
    var cats = Object.keys(source.received_by_category || {}).map(function (k) {
      return { label: word("categories", k), value: source.received_by_category[k] };
    });
    box.textContent = "";
    append(box, [el("p", { class: "muted" }, data.period.first + " – " + data.period.last + " · " + say("asOf", { d: data.as_of })),
      table,
      el("div", { class: "charts" },
        el("figure", {}, el("figcaption", {}, say("chartCategory")), barChart(cats)),
        el("figure", {}, el("figcaption", {}, say("chartRates")), rateChart(data.villages, data.targets)))]);
  }

  var SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // Horizontal bars: one per {label, value}.
  function barChart(items) {
    var rowH = 18, left = 130, width = 460;
    var max = Math.max.apply(null, [1].concat(items.map(function (i) { return i.value; })));
    var height = items.length * rowH + 10;
    var chart = svg("svg", { class: "chart", id: "chart-categories", viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img" });
    items.forEach(function (it, i) {
      var y = 5 + i * rowH, w = (width - left - 40) * it.value / max;
      chart.appendChild(svg("text", { x: left - 6, y: y + 12, "text-anchor": "end" }, it.label));
      chart.appendChild(svg("rect", { class: "bar", x: left, y: y + 2, width: Math.max(w, 0), height: rowH - 5 }));
      chart.appendChild(svg("text", { x: left + w + 4, y: y + 12 }, String(it.value)));
    });
    return chart;
  }

  // Per village, the three rates as bars (red below target) with each
  // target as a dashed line.
  function rateChart(list, targets) {
    var groupH = 3 * 14 + 12, left = 100, width = 520, scaleW = width - left - 150;
    var height = Math.max(1, list.length) * groupH + 24;
    var chart = svg("svg", { class: "chart", id: "chart-rates", viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img" });
    list.forEach(function (v, i) {
      var y0 = 4 + i * groupH;
      chart.appendChild(svg("text", { x: left - 6, y: y0 + 12, "text-anchor": "end" }, v.name || v.village));
      rateKeys.forEach(function (rk, j) {
        var r = v[rk[0]] || {}, y = y0 + j * 14;
        var pct = r.den ? r.num / r.den : 0;
        chart.appendChild(svg("rect", { class: r.meets === false ? "bar miss" : "bar", x: left, y: y + 2, width: scaleW * pct, height: 10 }));
        var tx = left + scaleW * (targets[rk[0]] || 0) / 10000;
        chart.appendChild(svg("line", { class: "target", x1: tx, x2: tx, y1: y, y2: y + 14 }));
        chart.appendChild(svg("text", { x: left + scaleW + 4, y: y + 11 }, say(rk[1]) + " " + (r.percent || "—")));
      });
    });
    return chart;
  }

  // ---- devices ----

  function devicesView(params) {
    var box = el("div", {}, el("p", { class: "muted" }, say("loading")));
    var adding = me.role === "admin" ? addDeviceForm(function () { deviceTable(box, params); }) : null;
    show([el("h2", {}, say("navDevices")), adding, box]);
    deviceTable(box, params);
  }

  // The devices (of params.village, or all) into box.
  function deviceTable(box, params) {
    load("/api/devices" + query({ village: params.village }), function (data) {
      box.textContent = "";
      append(box, el("table", { id: "devices" },
        el("thead", {}, el("tr", {}, ["village", "label", "status", "caseCode", "enrolled", "lastSync", "syncs", "dataIn", "dataOut", "clockOffset", "lastResult", "errors", ""].map(function (h) {
          return el("th", {}, h ? say(h) : "");
        }))),
        el("tbody", {}, data.devices.map(function (d) {
          var off = Math.round((d.clock_offset_ms || 0) / 1000);
          var revoke = me.role === "admin" && d.status !== "revoked" ? el("button", {
            type: "button", class: "danger", onclick: function (e) {
              if (!window.confirm(say("revokeAsk"))) { return; }
              e.target.disabled = true;
              request("POST", "/api/devices/revoke", { id: d.id }).then(function (r) {
                if (r.status === 200) { deviceTable(box, params); } else { notice(failure(r)); e.target.disabled = false; }
              });
            }
          }, say("revoke")) : null;
          return el("tr", { "data-id": d.id },
            el("td", {}, d.village_name || villageName(d.village)), el("td", {}, d.label),
            el("td", {}, el("span", { class: "badge " + (d.status === "active" ? "ok" : d.status === "revoked" ? "bad" : "warn") },
              say("status" + d.status.charAt(0).toUpperCase() + d.status.slice(1)))),
            el("td", {}, d.case_code), el("td", {}, d.enrolled_ms ? when(d.enrolled_ms) : ""),
            el("td", {}, when(d.last_sync_ms)), el("td", { class: "num" }, d.syncs),
            el("td", { class: "num" }, bytes(d.bytes_in)), el("td", { class: "num" }, bytes(d.bytes_out)),
            el("td", { class: "num" + (Math.abs(off) > 300 ? " miss" : "") }, say("seconds", { n: off })),
            el("td", {}, d.last_result),
            el("td", { class: "num" }, d.errors || d.refused ? el("span", { class: "badge bad" }, (d.errors || 0) + (d.refused || 0)) : "0"),
            el("td", {}, revoke));
        }))));
    });
  }

  function addDeviceForm(done) {
    var village = el("select", { name: "village", required: true }, villageOptions("", "—"));
    var label = el("input", { name: "label", maxlength: 120 });
    var out = el("div", { id: "enrolment" });
    var button = el("button", { type: "submit" }, say("add"));
    var form = el("form", { class: "inline", id: "add-device" }, el("label", {}, say("village"), village),
      el("label", {}, say("label"), label), button);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!village.value) { return; }
      button.disabled = true;
      request("POST", "/api/devices/add", { village: village.value, label: label.value }).then(function (r) {
        button.disabled = false;
        out.textContent = "";
        if (r.status !== 200) { notice(failure(r)); return; }
        var qr = el("div", { class: "qr" });
        if (r.data.qr_svg) {
          // The hub's own drawing (hub/qr.c): paths only, no text from users.
          var doc = new DOMParser().parseFromString(r.data.qr_svg, "image/svg+xml");
          qr.appendChild(document.importNode(doc.documentElement, true));
        }
        append(out, [el("p", {}, say("enrolCode", { d: r.data.valid_days })), el("p", { class: "code", id: "enrol-code" }, r.data.code), qr]);
        done();
      });
    });
    return el("section", { class: "box no-print" }, el("h3", {}, say("addDevice")), form, out);
  }

  // ---- the frame ----

  function route() {
    var f = fragment();
    var view = f.parts[0] || "ledger";
    document.querySelectorAll("nav a").forEach(function (a) {
      a.className = a.getAttribute("data-view") === view || (view === "case" && a.getAttribute("data-view") === "ledger") ? "current" : "";
    });
    notice("");
    if (view === "case" && f.parts[1]) { caseView(f.parts[1]); } else if (view === "conflicts") {
      conflictsView(f.params);
    } else if (view === "lists") { listsView(f.params); } else if (view === "figures") {
      figuresView(f.params);
    } else if (view === "devices") { devicesView(f.params); } else { ledgerView(f.params); }
    $("view").focus({ preventScroll: true });
  }

  function render() {
    H.translate();
    document.title = say("title");
    $("who").textContent = me.user ? me.user + " (" + say(me.role) + ")" : "";
  }

  document.addEventListener("DOMContentLoaded", function () {
    H.languages(render, route);
    $("logout").addEventListener("click", function () {
      request("POST", "/api/logout").then(function () { location.replace("/login"); });
    });
    request("GET", "/api/me").then(function (r) {
      if (r.status !== 200) { if (r.status !== 401) { notice(failure(r)); } return null; }
      me = r.data;
      render();
      return Promise.all([request("GET", "/api/vocabulary"), request("GET", "/api/villages")]);
    }).then(function (rs) {
      if (!rs) { return; }
      H.vocab = rs[0].data;
      villages = rs[1].data.villages || [];
      window.addEventListener("hashchange", route);
      route();
    });
  });
}());

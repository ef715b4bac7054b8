// SPDX-License-Identifier: MIT
// village.js - the village's pages (hamlet ui). One page, views chosen by
// the address's fragment: #/today, #/new, #/cases?..., #/case/ID,
// #/agreement/CASE/ID (or /new, or /new?supplements=ID for a supplementary
// agreement), #/contacts, #/enrol; each drawn from the laptop's own JSON
// (agent/ui_api.c). Text from the ledger is only ever set as text
// (textContent), never parsed as HTML. Every change carries the
// session's CSRF token. Chinese first; the English switch is remembered in
// localStorage. Everything works without a network: the server is this
// laptop. The tools it shares with the township's review pages (DOM
// building, words, requests) are in common.js (web/), loaded first.
"use strict";

(function () {
  var words = {
    zh: {
      title: "村调解台账", skip: "跳到正文", navToday: "今日事项", navNew: "登记新案件",
      navCases: "案件查询", navContacts: "联系人", navEnrol: "连接乡镇", switchTo: "English",
      loading: "正在加载…", none: "没有。", save: "保存", saved: "已保存。", cancel: "取消",
      overdue: "已逾期", dueSoon: "7天内到期", followups: "应回访", corrections: "乡镇要求整改",
      overdueDays: "逾期 {n} 天", daysLeft: "还有 {n} 天", dueOn: "期限 {d}", visitBy: "回访期限 {d}",
      askedOn: "{d} 提出", yourAnswer: "本村答复", answer: "提交答复", answered: "已答复（{d}）：",
      answerSaved: "答复已保存，下次同步时送到乡镇。",
      syncTitle: "同步", pending: "待发送的修改", lastSync: "最近同步", lastResult: "结果", resultOk: "成功",
      lastOk: "最近成功", dataMonth: "本月流量", up: "上传", down: "下载", syncNow: "立即同步",
      syncing: "正在同步…", syncDone: "同步完成：发送 {s} 条，收到 {r} 条。",
      syncFailed: "同步没有完成：{e}。修改都保存在本机，下次再同步。", never: "从未",
      clockOff: "这台电脑的时钟与乡镇相差 {s} 秒，请有空时校正系统时间（台账按乡镇时间记录，不受影响）。",
      notEnrolled: "这台电脑还没有连接乡镇，案件只保存在本机。", enrolNow: "输入登记码连接乡镇",
      offlinePill: "待同步 {n} 条", syncedPill: "已同步", neverPill: "尚未同步", runningPill: "同步中…",
      kind: "类型", channel: "来源", category: "类别", klass: "等级", classN: "{n}类",
      caseTitle: "案由（标题）", titleHint: "例如：王某与李某宅基地纠纷", facts: "事实经过",
      claims: "当事人请求", receivedBy: "首问责任人（接待人）", parties: "当事人",
      party: "当事人 {n}", name: "姓名", role: "身份", phone: "电话", idNo: "身份证号",
      address: "住址", addParty: "再加一位当事人", removeParty: "删去这位当事人",
      choose: "请选择", saveCase: "保存案件", caseSaved: "案件已登记，编号 {n}。已保存在本机。",
      formProblems: "还有 {n} 处需要填写或修改，见下方红字。",
      pRequired: "必须填写。", pToo_long: "太长了。", pUnknown: "请从列表中选择。",
      pChannel_kind: "这种类型的案件不能从这个来源来（信访件：来信、来访、来电、网上、转送；排查：排查）。",
      pNo_party: "至少要有一位当事人。", pToo_many: "当事人太多（最多 20 位）。",
      pPhone: "电话号码只能是数字（5 到 20 位，可带 + 或 -）。",
      pId_no: "身份证号是 18 位（最后一位可以是 X），或旧的 15 位数字。",
      search: "搜索（标题、事实、编号、当事人姓名）", status: "状态", any: "全部", open: "未办结",
      overdueOnly: "只看逾期", find: "查询", reset: "清空", total: "共 {n} 件",
      shownFirst: "只显示前 {n} 件，请缩小范围。", caseNo: "编号", received: "登记日期", due: "期限",
      correctionBadge: "需整改", level: "责任层级",
      reveal: "显示完整号码", revealNote: "查看完整号码会记入案件记录。",
      edit: "修改", editParty: "修改 {n} 的信息", editTitle: "修改当事人信息：{n}",
      keepNumber: "不填则保留原号码", clearPhone: "删除电话号码", clearIdNo: "删除身份证号",
      saveParty: "保存修改", partySaved: "当事人 {n} 的信息已修改。",
      signedParties: "本案已有签署的调解协议：协议条款不变，但重新打印时当事人信息按修改后的显示。",
      pType: "格式不对。", pBoth: "填写新号码或勾选删除，二者选一。",
      partyProblems: "还有 {n} 处需要修改，见红字。",
      events: "办理记录", date: "日期", note: "内容", addEvent: "添加办理记录", eventKind: "记录类型",
      dateOpt: "日期（不填为今天）", noteReq: "内容", changeStatus: "变更状态", newStatus: "新状态",
      noStatus: "当前状态下没有可变更的状态。", change: "变更", noteOpt: "说明（可选）",
      transfer: "移交", transferTo: "移交给", escalate: "上报", escalateTo: "上报到",
      notice: "书面告知结果", noticeDone: "已书面告知（{d}）", opinion: "当事人意见",
      opinionDone: "当事人意见：{o}", followup: "回访", extend: "延期（信访件只能延期一次）", extendDays: "延长天数", followupNote: "回访情况", recordIt: "记录",
      steps: "办理", township: "乡镇督办", deadline: "督办期限", correction: "整改要求",
      correctionReply: "本村答复", rulesDue: "办理期限", followupDue: "回访期限",
      agreements: "调解协议", newAgreement: "新建调解协议", openAgreement: "打开",
      complete: "要素齐全", incomplete: "不完整", signed: "已签署（锁定）", unsigned: "未签署",
      agreementOf: "调解协议 · {c}", part1: "（一）当事人基本情况", part2: "（二）纠纷事实、争议事项及各方责任",
      part3: "（三）当事人的权利和义务", part4: "（四）履行方式、地点、期限",
      perfMethod: "履行方式", perfPlace: "履行地点", perfDeadline: "履行期限",
      part5: "（五）签名、盖章", missingTitle: "缺少：", readyToSign: "第一至第四部分已齐全，可以签署。签署时记录当事人、调解员签名和调委会盖章。",
      sign: "签署并锁定", signConfirm: "签署后协议不能再修改（变更须另订补充协议）。确认各方已在纸面协议上签名、盖章？",
      signYes: "确认签署", signedOn: "已于 {d} 签署，不能再修改。", print: "打印（A4）", printFull: "打印（显示完整号码）",
      backToCase: "返回案件", saveAgreement: "保存协议",
      agreementN: "第{n}份协议", supplementOf: "补充协议（补充{a}）", supplementTitle: "补充协议 · {c}",
      supplementsLine: "本协议是对{a}（{d}签署）的补充协议。", newSupplement: "新建补充协议",
      contacts: "联系人", contactSearch: "搜索姓名或住址", onCases: "涉及案件",
      enrolTitle: "连接乡镇", enrolHelp: "把乡镇给的登记码（以 HAMLET1: 开头）粘贴或输入到下面，然后点“连接”。需要网络，只做一次。",
      enrolCode: "登记码", enrol: "连接", enrolling: "正在连接乡镇…", enrolled: "已连接乡镇：{v}。",
      noVillage: "这台电脑还没有台账。请先输入乡镇给的登记码。",
      errNetwork: "本机台账程序没有响应：请确认“村调解台账”仍在运行。",
      errSession: "页面已过期：请从台账程序重新打开。", errCsrf: "页面已过期，请刷新后重试。",
      errFailed: "出错了（{status}）：{message}", notFound: "没有这个案件。",
      refused: "不能这样办：{message}"
    },
    en: {
      title: "Village mediation ledger", skip: "Skip to the page", navToday: "Today", navNew: "New case",
      navCases: "Cases", navContacts: "Contacts", navEnrol: "Connect to the township",
      switchTo: "中文", loading: "Loading…", none: "Nothing.", save: "Save", saved: "Saved.",
      cancel: "Cancel", overdue: "Overdue", dueSoon: "Due within 7 days", followups: "Follow-up visits due",
      corrections: "Corrections asked by the township", overdueDays: "{n} days overdue",
      daysLeft: "{n} days left", dueOn: "due {d}", visitBy: "visit by {d}", askedOn: "asked {d}",
      yourAnswer: "The village's answer", answer: "Send the answer", answered: "Answered ({d}): ",
      answerSaved: "The answer is saved; it reaches the township with the next sync.",
      syncTitle: "Sync", pending: "Changes waiting to be sent", lastSync: "Last sync",
      lastResult: "Result", resultOk: "ok", lastOk: "Last success", dataMonth: "Data this month", up: "up",
      down: "down", syncNow: "Sync now", syncing: "Syncing…",
      syncDone: "Synced: sent {s}, received {r}.",
      syncFailed: "The sync did not complete: {e}. Every change stays on this laptop for the next sync.",
      never: "never",
      clockOff: "This laptop's clock is off by {s} s from the township's; set the system clock when you can (the ledger follows the township's time).",
      notEnrolled: "This laptop is not connected to the township yet: cases stay on this laptop.",
      enrolNow: "Enter the enrolment code", offlinePill: "{n} to sync", syncedPill: "synced", neverPill: "never synced",
      runningPill: "syncing…", kind: "Kind", channel: "Channel", category: "Category",
      klass: "Class", classN: "Class {n}", caseTitle: "Title", titleHint: "e.g. Wang and Li: homestead dispute",
      facts: "Facts", claims: "Claims", receivedBy: "Received by", parties: "Parties",
      party: "Party {n}", name: "Name", role: "Role", phone: "Phone", idNo: "ID card number",
      address: "Address", addParty: "Add another party", removeParty: "Remove this party",
      choose: "Choose", saveCase: "Save the case", caseSaved: "The case is registered as {n}, saved on this laptop.",
      formProblems: "{n} fields need attention: see the red text below.",
      pRequired: "Required.", pToo_long: "Too long.", pUnknown: "Choose from the list.",
      pChannel_kind: "A case of this kind cannot come by this channel (petitions: letter, visit, call, online, referral; screening: screening).",
      pNo_party: "At least one party is needed.", pToo_many: "Too many parties (at most 20).",
      pPhone: "A phone number is 5 to 20 digits (+ and - allowed).",
      pId_no: "An ID card number has 18 characters (the last may be X), or 15 digits (old cards).",
      search: "Search (title, facts, number, party name)", status: "Status", any: "Any",
      open: "Open", overdueOnly: "Overdue only", find: "Search", reset: "Clear",
      total: "{n} cases", shownFirst: "Only the first {n} are shown: narrow the search.",
      caseNo: "Number", received: "Received", due: "Due", correctionBadge: "correction asked",
      level: "Level", reveal: "Show the numbers in full",
      revealNote: "Showing the numbers is recorded on the case.",
      edit: "Edit", editParty: "Edit the details of {n}", editTitle: "Correct a party's details: {n}",
      keepNumber: "Leave empty to keep the number on file", clearPhone: "Remove the phone number",
      clearIdNo: "Remove the ID card number", saveParty: "Save the correction",
      partySaved: "The details of {n} are corrected.",
      signedParties: "This case has a signed agreement: its terms stay as signed, but a new print shows the corrected party details.",
      pType: "Not in the right form.", pBoth: "Type a new number or tick remove, not both.",
      partyProblems: "{n} fields need attention: see the red text.", events: "Events", date: "Date",
      note: "Note", addEvent: "Add an event", eventKind: "Kind of event",
      dateOpt: "Date (today if empty)", noteReq: "What happened", changeStatus: "Change the status",
      newStatus: "New status", noStatus: "No status change is possible from here.",
      change: "Change", noteOpt: "Note (optional)", transfer: "Transfer", transferTo: "Transfer to",
      escalate: "Escalate", escalateTo: "Escalate to", notice: "Result notice sent",
      noticeDone: "Result notice sent ({d})", opinion: "Party's opinion", opinionDone: "Opinion: {o}",
      followup: "Follow-up visit", extend: "Extension (a petition's one)", extendDays: "Days", followupNote: "What the visit found", recordIt: "Record",
      steps: "Work on the case", township: "From the township", deadline: "Deadline",
      correction: "Correction asked", correctionReply: "The village's answer",
      rulesDue: "Due", followupDue: "Follow-up visit by", agreements: "Mediation agreements",
      newAgreement: "New agreement", openAgreement: "Open", complete: "Complete",
      incomplete: "Incomplete", signed: "Signed (locked)", unsigned: "Not signed",
      agreementOf: "Mediation agreement · {c}", part1: "(1) The parties' details",
      part2: "(2) Facts, matters in dispute, responsibility", part3: "(3) Rights and obligations",
      part4: "(4) How, where and by when it is performed", perfMethod: "How",
      perfPlace: "Where", perfDeadline: "By when", part5: "(5) Signatures and seal",
      missingTitle: "Missing: ", readyToSign: "Parts 1 to 4 are complete: it can be signed. Signing records the parties' and the mediator's signatures and the committee's seal.",
      sign: "Sign and lock", signConfirm: "Once signed, the agreement cannot change (a change is a supplementary agreement). Have all parties signed and the committee sealed the paper form?",
      signYes: "Yes, sign it", signedOn: "Signed on {d}; it can no longer change.",
      print: "Print (A4)", printFull: "Print with the numbers in full", backToCase: "Back to the case", saveAgreement: "Save the agreement",
      agreementN: "agreement {n}", supplementOf: "Supplementary (to {a})", supplementTitle: "Supplementary agreement · {c}",
      supplementsLine: "This agreement supplements {a} (signed {d}).", newSupplement: "Make a supplementary agreement",
      contacts: "Contacts", contactSearch: "Search names or addresses", onCases: "Cases",
      enrolTitle: "Connect to the township", enrolHelp: "Paste or type the enrolment code the township gave you (it starts with HAMLET1:) and press Connect. It needs a link, once.",
      enrolCode: "Enrolment code", enrol: "Connect", enrolling: "Connecting to the township…",
      enrolled: "Connected to the township: {v}.",
      noVillage: "This laptop has no ledger yet. Enter the enrolment code from the township first.",
      errNetwork: "The ledger program on this laptop does not answer: is it still running?",
      errSession: "This page has expired: open it again from the ledger program.",
      errCsrf: "The page is out of date; reload it and try again.",
      errFailed: "Something went wrong ({status}): {message}", notFound: "No such case.",
      refused: "Not allowed: {message}"
    }
  };
  var H = hamlet;
  var say = H.speak(words);
  var $ = H.$, el = H.el, append = H.append, show = H.show, notice = H.notice;
  var facts = H.facts, word = H.word, when = H.when, bytes = H.bytes, query = H.query;
  var session = { csrf: "", village: "", village_name: "", enrolled: false };
  var pollTimer = null;
  var flash = ""; // a notice of success, shown once the next view is drawn

  // ---- small tools ----

  // The <option>s of a vocabulary list: first "choose" (or blank; none
  // when blank is null), only the names in only when given.
  function options(list, selected, blank, only) {
    return H.options(list, selected, blank === null ? null : blank || say("choose"), only);
  }

  function fragment() { return H.fragment("/today"); }

  // A labelled field: el("label") holding the words, the control and a
  // place for its problem.
  function field(key, control, cls, hint) {
    var name = control.getAttribute("name");
    if (name) { control.id = "f-" + name.replace(/\./g, "-"); }
    return el("label", { class: "field" + (cls ? " " + cls : "") }, say(key),
      hint ? el("span", { class: "hint" }, hint) : null, control,
      el("span", { class: "problem", "data-for": name || "" }));
  }

  // ---- the laptop's server ----

  // Every request's body tells the server the page's language.
  function request(method, path, body) {
    if (body !== undefined) { body.lang = H.lang; }
    return H.request(method, path, body, method !== "GET" ? session.csrf : null);
  }

  function failure(r) {
    if (r.status === 404 && r.data.error === "not_found") { return say("notFound"); }
    if (r.status === 409 && r.data.error === "refused") { return say("refused", { message: r.data.message || "" }); }
    return H.failure(r);
  }

  function load(path, fn) {
    return request("GET", path).then(function (r) {
      if (r.status === 200) { fn(r.data); } else { notice(failure(r)); }
    });
  }

  // POST body to path with the button disabled meanwhile; fn(data) on
  // success, the reason in msg (or the notice) if not.
  function change(path, body, button, msg, fn) {
    if (button) { button.disabled = true; }
    if (msg) { msg.textContent = ""; msg.className = "message"; }
    return request("POST", path, body).then(function (r) {
      if (button) { button.disabled = false; }
      if (r.status === 200 || r.status === 202) { notice(""); fn(r.data); return; }
      if (msg) { msg.textContent = failure(r); } else { notice(failure(r)); }
    });
  }

  // ---- Today ----

  function caseLink(k) {
    return el("a", { href: "#/case/" + encodeURIComponent(k.id) }, (k.case_no || k.id.slice(0, 8)) + " " + (k.title || ""));
  }

  function todayList(key, items, line, cls) {
    return el("section", { class: "box" + (items.length ? " " + cls : ""), id: "today-" + key },
      el("h3", {}, say(key), " ", el("span", { class: "badge" + (items.length ? " bad" : "") }, items.length)),
      items.length ? el("ul", {}, items.map(function (k) { return el("li", { "data-id": k.id }, line(k)); }))
        : el("p", { class: "muted" }, say("none")));
  }

  function correctionItem(k) {
    return [caseLink(k), " ", el("span", { class: "muted" }, say("askedOn", { d: k.due || "" })),
      el("p", { class: "text correction" }, k.correction || ""),
      k.correction_reply ? el("p", { class: "muted" }, say("answered", { d: k.correction_reply_on || "" }), k.correction_reply) : null,
      answerForm(k)];
  }

  // The village's answer to the township's request for a correction.
  function answerForm(k) {
    var box = el("textarea", { name: "answer", maxlength: 1000, "aria-label": say("yourAnswer"), rows: 2 });
    var msg = el("p", { class: "message", role: "status" });
    var button = el("button", { type: "submit" }, say("answer"));
    var form = el("form", { class: "answer-form" },
      el("label", { class: "field" }, say("yourAnswer"), box), el("div", { class: "row" }, button), msg);
    if (k.correction_reply) { box.value = k.correction_reply; }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      change("/api/case/answer", { id: k.id, text: box.value }, button, msg, function () {
        msg.textContent = say("answerSaved");
        msg.className = "message ok";
        refreshPill();
      });
    });
    return form;
  }

  function syncBox(s) {
    var msg = el("p", { class: "message", id: "sync-message", role: "status" });
    var last = s.last_run;
    if (s.running) { msg.textContent = say("syncing"); msg.className = "message ok"; } else if (last) {
      msg.textContent = last.ok ? say("syncDone", { s: last.sent, r: last.received }) : say("syncFailed", { e: last.error });
      msg.className = last.ok ? "message ok" : "message";
    }
    var button = el("button", { type: "button", id: "sync-now", disabled: s.running || !s.enrolled }, say("syncNow"));
    button.addEventListener("click", function () {
      change("/api/sync", {}, button, msg, function () {
        msg.textContent = say("syncing");
        msg.className = "message ok";
        button.disabled = true;
        pollSync();
      });
    });
    return el("section", { class: "box", id: "sync" },
      el("h3", {}, say("syncTitle")),
      s.enrolled ? null : el("p", { class: "message" }, say("notEnrolled"), " ", el("a", { href: "#/enrol" }, say("enrolNow"))),
      s.clock_off ? el("p", { class: "message", id: "clock-warning" }, say("clockOff", { s: Math.round(s.clock_offset_ms / 1000) })) : null,
      el("div", { class: "stats" },
        el("div", {}, el("div", { class: "count", id: "pending" }, s.pending), say("pending")),
        el("div", {}, el("div", {}, when(s.last_sync_ms)), say("lastSync"),
          s.last_result ? el("div", { class: "muted" }, say("lastResult") + ": " + (s.last_result === "ok" ? say("resultOk") : s.last_result)) : null),
        el("div", {}, el("div", {}, when(s.last_ok_ms)), say("lastOk")),
        el("div", {}, el("div", {}, say("up") + " " + bytes(s.bytes_up_month) + " · " + say("down") + " " + bytes(s.bytes_down_month)), say("dataMonth"))),
      el("div", { class: "row" }, button), msg);
  }

  function pollSync() {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(function () {
      request("GET", "/api/sync").then(function (r) {
        if (r.status !== 200) { return; }
        if (r.data.sync.running) { pollSync(); return; }
        pill(r.data.sync);
        if (fragment().parts[0] === "today" || !fragment().parts[0]) { todayView(); }
      });
    }, 1000);
  }

  function pill(s) {
    var p = $("sync-pill");
    p.textContent = s.running ? say("runningPill") : s.pending ? say("offlinePill", { n: s.pending })
      : s.last_ok_ms ? say("syncedPill") : say("neverPill");
    p.className = s.pending || s.clock_off || !s.last_ok_ms ? "pill warn" : "pill";
    var pending = $("pending");
    if (pending) { pending.textContent = s.pending; }
  }

  function refreshPill() {
    request("GET", "/api/sync").then(function (r) { if (r.status === 200) { pill(r.data.sync); } });
  }

  function todayView() {
    load("/api/today?lang=" + H.lang, function (d) {
      pill(d.sync);
      show([el("h2", {}, say("navToday")),
        el("div", { class: "grid2" },
          el("div", {},
            todayList("overdue", d.overdue, function (k) {
              return [caseLink(k), " ", el("span", { class: "badge bad" }, say("overdueDays", { n: k.days })), " ", el("span", { class: "muted" }, say("dueOn", { d: k.due }))];
            }, "alert"),
            todayList("dueSoon", d.due, function (k) {
              return [caseLink(k), " ", el("span", { class: "badge warn" }, say("daysLeft", { n: k.days })), " ", el("span", { class: "muted" }, say("dueOn", { d: k.due }))];
            }, "attention"),
            todayList("followups", d.followups, function (k) {
              return [caseLink(k), " ", el("span", { class: "badge" + (k.state === "overdue" ? " bad" : " warn") }, say("visitBy", { d: k.due }))];
            }, "attention")),
          el("div", {}, todayList("corrections", d.corrections, correctionItem, "alert"), syncBox(d.sync)))]);
      if (d.sync.running) { pollSync(); }
    });
  }

  // ---- a new case ----

  function partyBlock(n, list) {
    var block = el("fieldset", { class: "party", "data-party": n },
      el("legend", {}, say("party", { n: n + 1 })),
      el("div", { class: "fields" },
        field("name", el("input", { name: "parties." + n + ".name", maxlength: 50, autocomplete: "off" })),
        field("role", el("select", { name: "parties." + n + ".role" }, options("roles", n === 0 ? "申请人" : n === 1 ? "被申请人" : "第三人", null))),
        field("phone", el("input", { name: "parties." + n + ".phone", maxlength: 30, inputmode: "tel", autocomplete: "off" })),
        field("idNo", el("input", { name: "parties." + n + ".id_no", maxlength: 18, autocomplete: "off" })),
        field("address", el("input", { name: "parties." + n + ".address", maxlength: 200, autocomplete: "off" }), "wide")));
    if (n > 0) {
      append(block, el("button", {
        type: "button", class: "secondary remove-party",
        onclick: function () { block.remove(); renumber(list); }
      }, say("removeParty")));
    }
    return block;
  }

  function renumber(list) {
    Array.prototype.forEach.call(list.children, function (block, n) {
      block.setAttribute("data-party", n);
      block.querySelector("legend").textContent = say("party", { n: n + 1 });
      block.querySelectorAll("[name]").forEach(function (c) {
        var name = c.getAttribute("name").replace(/^parties\.\d+\./, "parties." + n + ".");
        c.setAttribute("name", name);
        c.id = "f-" + name.replace(/\./g, "-");
        c.parentNode.querySelector(".problem").setAttribute("data-for", name);
      });
    });
  }

  function showProblems(form, problems) {
    form.querySelectorAll(".problem").forEach(function (p) { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (c) { c.removeAttribute("aria-invalid"); });
    var first = null;
    problems.forEach(function (p) {
      var control = form.querySelector("[name='" + p.field + "']");
      var spot = form.querySelector(".problem[data-for='" + p.field + "']") || form.querySelector(".problem[data-for='form']");
      var key = "p" + p.code.charAt(0).toUpperCase() + p.code.slice(1);
      if (spot) { spot.textContent = say(key); }
      if (control) { control.setAttribute("aria-invalid", "true"); first = first || control; }
    });
    return first;
  }

  function newCaseView() {
    var parties = el("div", { id: "parties" });
    append(parties, [partyBlock(0, parties), partyBlock(1, parties)]);
    var kind = el("select", { name: "kind" }, options("kinds", "dispute"));
    var channel = el("select", { name: "channel" }, options("channels", "visit"));
    kind.addEventListener("change", function () {
      var fits = H.vocab.kind_channels[kind.value] || [];
      var keep = fits.indexOf(channel.value) >= 0 ? channel.value : fits[0] || "";
      channel.textContent = "";
      append(channel, options("channels", keep, undefined, kind.value ? fits : null));
    });
    var summary = el("p", { class: "message", id: "form-summary", role: "alert" });
    var button = el("button", { type: "submit", id: "save-case" }, say("saveCase"));
    var form = el("form", { id: "intake", novalidate: true },
      el("section", { class: "box" }, el("div", { class: "fields" },
        field("caseTitle", el("input", { name: "title", maxlength: 100 }), "wide", say("titleHint")),
        field("kind", kind), field("channel", channel),
        field("category", el("select", { name: "category" }, options("categories", ""))),
        field("klass", el("select", { name: "severity" }, [el("option", { value: "" }, say("choose"))].concat([1, 2, 3].map(function (n) {
          return el("option", { value: n, selected: n === 3 }, say("classN", { n: n }));
        })))),
        field("facts", el("textarea", { name: "facts", rows: 4 }), "wide"),
        field("claims", el("textarea", { name: "claims", rows: 2 }), "wide"),
        field("receivedBy", el("input", { name: "received_by", maxlength: 50, value: localStorage.getItem("hamlet.receivedBy") || "" }), "half"))),
      el("section", { class: "box" }, el("h3", {}, say("parties")),
        el("span", { class: "problem", "data-for": "parties" }), parties,
        el("button", {
          type: "button", class: "secondary", id: "add-party",
          onclick: function () {
            var block = partyBlock(parties.children.length, parties);
            append(parties, block);
            block.querySelector("input").focus();
          }
        }, say("addParty"))),
      summary, el("div", { class: "row" }, button));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = { parties: [] };
      ["title", "kind", "channel", "category", "severity", "facts", "claims", "received_by"].forEach(function (k) {
        body[k] = form.elements[k].value.trim();
      });
      body.severity = body.severity ? Number(body.severity) : null;
      Array.prototype.forEach.call(parties.children, function (block, n) {
        var p = {};
        ["name", "role", "phone", "id_no", "address"].forEach(function (k) {
          p[k] = form.elements["parties." + n + "." + k].value.trim();
        });
        body.parties.push(p);
      });
      button.disabled = true;
      summary.textContent = "";
      request("POST", "/api/case/new", body).then(function (r) {
        button.disabled = false;
        if (r.status === 400 && r.data.problems) {
          summary.textContent = say("formProblems", { n: r.data.problems.length });
          var first = showProblems(form, r.data.problems);
          if (first) { first.focus(); }
          return;
        }
        if (r.status !== 200) { summary.textContent = failure(r); return; }
        try { localStorage.setItem("hamlet.receivedBy", body.received_by); } catch (x) { /* private mode */ }
        flash = say("caseSaved", { n: r.data["case"].case_no });
        location.hash = "#/case/" + encodeURIComponent(r.data["case"].id);
        refreshPill();
      });
    });
    show([el("h2", {}, say("navNew")), form]);
    form.elements.title.focus();
  }

  // ---- the cases ----

  function casesView(params) {
    var form = el("form", { class: "row", id: "filters", role: "search" },
      el("label", {}, say("search"), el("input", { type: "search", name: "q", value: params.q || "", maxlength: 100, size: 28 })),
      el("label", {}, say("status"), el("select", { name: "status" },
        [el("option", { value: "" }, say("any")), el("option", { value: "open", selected: params.status === "open" }, say("open"))]
          .concat(options("statuses", params.status, null)))),
      el("label", {}, say("kind"), el("select", { name: "kind" }, options("kinds", params.kind, say("any")))),
      el("label", {}, say("category"), el("select", { name: "category" }, options("categories", params.category, say("any")))),
      el("label", {}, say("klass"), el("select", { name: "severity" }, [el("option", { value: "" }, say("any"))].concat([1, 2, 3].map(function (n) {
        return el("option", { value: n, selected: params.severity === String(n) }, say("classN", { n: n }));
      })))),
      el("label", {}, say("overdueOnly"), el("input", { type: "checkbox", name: "overdue", checked: params.overdue === "1" })),
      el("button", { type: "submit" }, say("find")),
      el("button", { type: "button", class: "secondary", onclick: function () { location.hash = "#/cases"; } }, say("reset")));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var p = {};
      new FormData(form).forEach(function (v, k) { p[k] = v === "on" ? "1" : v; });
      location.hash = "#/cases" + query(p);
    });
    var box = el("div", {}, el("p", { class: "muted" }, say("loading")));
    show([el("h2", {}, say("navCases")), el("section", { class: "box" }, form), box]);
    load("/api/cases" + query(params), function (d) {
      box.textContent = "";
      append(box, [el("p", { id: "total" }, say("total", { n: d.total }),
        d.total > d.limit ? [" ", el("span", { class: "muted" }, say("shownFirst", { n: d.limit }))] : null),
        d.cases.length ? el("table", { id: "cases" },
          el("thead", {}, el("tr", {}, ["caseNo", "caseTitle", "kind", "category", "klass", "status", "received", "due"].map(function (h) { return el("th", {}, say(h)); }))),
          el("tbody", {}, d.cases.map(function (k) {
            return el("tr", { class: k.due_state === "overdue" ? "overdue" : null, "data-id": k.id },
              el("td", {}, el("a", { href: "#/case/" + encodeURIComponent(k.id) }, k.case_no || k.id.slice(0, 8))),
              el("td", {}, el("a", { href: "#/case/" + encodeURIComponent(k.id) }, k.title), k.correction ? [" ", el("span", { class: "badge warn" }, say("correctionBadge"))] : null),
              el("td", {}, word("kinds", k.kind)), el("td", {}, word("categories", k.category)),
              el("td", {}, k.severity ? say("classN", { n: k.severity }) : ""),
              el("td", {}, word("statuses", k.status)), el("td", {}, k.received || ""),
              el("td", {}, k.due || "", k.due_state === "overdue" ? [" ", el("span", { class: "badge bad" }, say("overdue"))] : null));
          }))) : el("p", { class: "muted" }, say("none"))]);
    });
    form.elements.q.focus();
  }

  // ---- a case ----

  // A small form of one step: fields, a button, its message; body() makes
  // the request's body from the form.
  function stepForm(id, path, controls, buttonKey, body, after) {
    var msg = el("p", { class: "message", role: "status" });
    var button = el("button", { type: "submit" }, say(buttonKey));
    var form = el("form", { class: "row", id: id }, controls, button);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      change(path, body(form), button, msg, function (d) { (after || drawCase)(d); refreshPill(); });
    });
    return [form, msg];
  }

  function noteField(name) {
    return el("label", {}, say(name || "noteOpt"), el("input", { name: "note", maxlength: 500, size: 30 }));
  }

  // The correction of one party's details, in box, opened by the button
  // opener. The phone and ID card fields start empty: the page holds the
  // stored numbers only as it shows them (masked unless revealed, and a
  // reveal is recorded), so they are the fields' placeholders, and a field
  // left empty keeps the number on file; "remove" clears it.
  function openPartyForm(d, p, box, opener) {
    var k = d["case"];
    var msg = el("p", { class: "message", role: "status", id: "party-message" });
    var button = el("button", { type: "submit", id: "save-party" }, say("saveParty"));
    var phone = el("input", { name: "phone", maxlength: 30, inputmode: "tel", autocomplete: "off", placeholder: p.phone || "" });
    var idNo = el("input", { name: "id_no", maxlength: 18, autocomplete: "off", placeholder: p.id_no || "" });
    function clearBox(name, key, input) {
      if (!input.getAttribute("placeholder")) { return null; }
      var box = el("input", { type: "checkbox", name: name });
      box.addEventListener("change", function () { input.disabled = box.checked; if (box.checked) { input.value = ""; } });
      return el("label", { class: "check" }, box, " ", say(key));
    }
    var signed = d.agreements.some(function (a) { return a.locked; });
    var form = el("form", { id: "party-form", novalidate: true, "data-party": p.id },
      el("fieldset", { class: "party" }, el("legend", {}, say("editTitle", { n: p.name || "" })),
        el("div", { class: "fields two" },
          field("name", el("input", { name: "name", maxlength: 50, autocomplete: "off", value: p.name || "" })),
          field("role", el("select", { name: "role" }, options("roles", p.role, null))),
          el("div", { class: "field-group" }, field("phone", phone, null, say("keepNumber")), clearBox("clear_phone", "clearPhone", phone)),
          el("div", { class: "field-group" }, field("idNo", idNo, null, say("keepNumber")), clearBox("clear_id_no", "clearIdNo", idNo)),
          field("address", el("input", { name: "address", maxlength: 200, autocomplete: "off", value: p.address || "" }), "wide")),
        signed ? el("p", { class: "muted", id: "party-signed" }, say("signedParties")) : null,
        el("span", { class: "problem", "data-for": "form" }),
        el("div", { class: "row" }, button,
          el("button", {
            type: "button", class: "secondary", id: "cancel-party",
            onclick: function () { box.textContent = ""; opener.focus(); }
          }, say("cancel"))),
        msg));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var f = form.elements;
      var body = {
        id: k.id, party: p.id, name: f.name.value.trim(), role: f.role.value,
        phone: f.phone.value.trim(), id_no: f.id_no.value.trim(), address: f.address.value.trim(),
        clear_phone: !!(f.clear_phone && f.clear_phone.checked), clear_id_no: !!(f.clear_id_no && f.clear_id_no.checked)
      };
      button.disabled = true;
      msg.textContent = "";
      request("POST", "/api/case/party", body).then(function (r) {
        button.disabled = false;
        if (r.status === 400 && r.data.problems) {
          var first = showProblems(form, r.data.problems);
          msg.textContent = say("partyProblems", { n: r.data.problems.length });
          if (first) { first.focus(); }
          return;
        }
        if (r.status !== 200) { msg.textContent = failure(r); return; }
        drawCase(r.data);
        notice(say("partySaved", { n: body.name || p.name || "" }), true);
        var row = document.querySelector("#parties tr[data-party='" + p.id + "'] .edit-party");
        if (row) { row.focus(); }
        refreshPill();
      });
    });
    box.textContent = "";
    append(box, form);
    form.elements.name.focus();
  }

  function caseView(id) {
    show(el("p", { class: "muted" }, say("loading")));
    load("/api/case?id=" + encodeURIComponent(id), drawCase);
  }

  function drawCase(d) {
    var k = d["case"];
    var r = d.rules || {};
    var reveal = d.masked ? el("p", {}, el("button", {
      type: "button", class: "secondary", id: "reveal",
      onclick: function (e) { change("/api/case/reveal", { id: k.id }, e.target, null, drawCase); }
    }, say("reveal")), " ", el("span", { class: "muted" }, say("revealNote"))) : null;
    var partyEdit = el("div", { id: "party-edit", class: "no-print" });
    var parties = el("table", { id: "parties" },
      el("thead", {}, el("tr", {}, ["role", "name", "phone", "idNo", "address"].map(function (h) { return el("th", {}, say(h)); }),
        el("th", { class: "no-print" }))),
      el("tbody", {}, d.parties.map(function (p) {
        return el("tr", { "data-party": p.id }, el("td", { class: "role" }, word("roles", p.role)), el("td", { class: "name" }, p.name || ""),
          el("td", { class: "phone" }, p.phone || ""), el("td", { class: "id-no" }, p.id_no || ""), el("td", { class: "address" }, p.address || ""),
          el("td", { class: "no-print" }, p.contact_id ? el("button", {
            type: "button", class: "link edit-party", "aria-label": say("editParty", { n: p.name || "" }),
            onclick: function (e) { openPartyForm(d, p, partyEdit, e.target); }
          }, say("edit")) : null));
      })));
    var events = el("table", { id: "events" },
      el("thead", {}, el("tr", {}, el("th", {}, say("date")), el("th", {}, say("kind")), el("th", {}, say("note")))),
      el("tbody", {}, d.events.map(function (e) {
        return el("tr", {}, el("td", { class: "date" }, e.date || ""), el("td", { class: "date" }, word("event_kinds", e.kind)), el("td", { class: "text" }, e.note || ""));
      })));
    var statusSelect = el("select", { name: "status", id: "new-status" }, options("statuses", "", say("choose"), d.allowed_statuses));
    var steps = el("section", { class: "box no-print", id: "steps" }, el("h3", {}, say("steps")),
      el("h4", {}, say("addEvent")),
      stepForm("event-form", "/api/case/event", [
        el("label", {}, say("eventKind"), el("select", { name: "kind" }, options("event_kinds", "session", null, H.vocab.manual_events))),
        el("label", {}, say("dateOpt"), el("input", { type: "date", name: "date" })),
        el("label", {}, say("noteReq"), el("input", { name: "note", maxlength: 1000, size: 40 }))],
      "addEvent", function (f) { return { id: k.id, kind: f.elements.kind.value, date: f.elements.date.value, note: f.elements.note.value }; }),
      el("h4", {}, say("changeStatus")),
      d.allowed_statuses.length ? stepForm("status-form", "/api/case/status", [
        el("label", {}, say("newStatus"), statusSelect), noteField()], "change",
      function (f) { return { id: k.id, status: f.elements.status.value, note: f.elements.note.value }; })
        : el("p", { class: "muted" }, say("noStatus")),
      d.transfer_allowed ? [el("h4", {}, say("transfer")), stepForm("transfer-form", "/api/case/transfer", [
        el("label", {}, say("transferTo"), el("select", { name: "to" }, options("referrals", ""))), noteField()], "transfer",
      function (f) { return { id: k.id, to: f.elements.to.value, note: f.elements.note.value }; })] : null,
      d.levels_above.length ? [el("h4", {}, say("escalate")), stepForm("escalate-form", "/api/case/escalate", [
        el("label", {}, say("escalateTo"), el("select", { name: "level" }, options("levels", "", say("choose"), d.levels_above.map(String)))), noteField()], "escalate",
      function (f) { return { id: k.id, level: Number(f.elements.level.value), note: f.elements.note.value }; })] : null,
      el("h4", {}, say("notice")),
      k.result_notice_on ? el("p", {}, say("noticeDone", { d: k.result_notice_on })) : stepForm("notice-form", "/api/case/notice", [
        el("label", {}, say("dateOpt"), el("input", { type: "date", name: "date" })), noteField()], "recordIt",
      function (f) { return { id: k.id, date: f.elements.date.value, note: f.elements.note.value }; }),
      el("h4", {}, say("opinion")),
      k.opinion ? el("p", {}, say("opinionDone", { o: word("opinions", k.opinion) })) : null,
      stepForm("opinion-form", "/api/case/opinion", [
        el("label", {}, say("opinion"), el("select", { name: "opinion" }, options("opinions", ""))), noteField()], "recordIt",
      function (f) { return { id: k.id, opinion: f.elements.opinion.value, note: f.elements.note.value }; }),
      k.kind === "petition" && !k.extension_days ? [el("h4", {}, say("extend")), stepForm("extend-form", "/api/case/extend", [
        el("label", {}, say("extendDays"), el("input", { type: "number", name: "days", min: 1, max: 365, size: 5 })), noteField()], "recordIt",
      function (f) { return { id: k.id, days: Number(f.elements.days.value), note: f.elements.note.value }; })] : null,
      el("h4", {}, say("followup")),
      stepForm("followup-form", "/api/case/followup", [
        el("label", {}, say("dateOpt"), el("input", { type: "date", name: "date" })),
        el("label", {}, say("followupNote"), el("input", { name: "note", maxlength: 1000, size: 40 }))], "recordIt",
      function (f) { return { id: k.id, date: f.elements.date.value, note: f.elements.note.value }; }));
    var township = (k.deadline || k.correction) ? el("section", { class: "box alert", id: "township" },
      el("h3", {}, say("township")),
      facts([["deadline", k.deadline], ["correction", k.correction], ["correctionReply", k.correction_reply]]),
      k.correction ? answerForm(k) : null) : null;
    var agreements = el("section", { class: "box", id: "agreements" }, el("h3", {}, say("agreements")),
      d.agreements.length ? el("ul", {}, d.agreements.map(function (a) {
        return el("li", { "data-id": a.id }, el("a", { href: "#/agreement/" + encodeURIComponent(k.id) + "/" + encodeURIComponent(a.id) }, say("openAgreement") + " " + agreementName(d, a.id)), " ",
          a.complete ? el("span", { class: "badge ok" }, say("complete")) : el("span", { class: "badge bad" }, say("incomplete")), " ",
          el("span", { class: "badge" }, a.locked ? say("signed") : say("unsigned")),
          a.supplements ? [" ", el("span", { class: "badge supplement" }, say("supplementOf", { a: agreementName(d, a.supplements) }))] : null);
      })) : el("p", { class: "muted" }, say("none")),
      el("p", { class: "no-print" }, el("a", { href: "#/agreement/" + encodeURIComponent(k.id) + "/new", id: "new-agreement" }, say("newAgreement"))));
    var due = r.due ? el("span", { class: "badge" + (r.due_state === "overdue" ? " bad" : r.due_state === "due_soon" ? " warn" : "") },
      say("rulesDue") + " " + r.due) : null;
    show([
      el("h2", { id: "case-title" }, (k.case_no ? k.case_no + " " : "") + (k.title || ""), " ",
        el("span", { class: "badge", id: "case-status" }, word("statuses", k.status)), " ", due,
        k.correction ? el("span", { class: "badge warn" }, say("correctionBadge")) : null),
      township,
      el("div", { class: "grid2" },
        el("div", {},
          el("section", { class: "box" }, facts([
            ["kind", word("kinds", k.kind)], ["channel", word("channels", k.channel)],
            ["category", word("categories", k.category)], ["klass", k.severity ? say("classN", { n: k.severity }) : ""],
            ["level", word("levels", k.level)], ["receivedBy", k.received_by],
            ["received", (k.created_at || "").slice(0, 10)], ["followupDue", r.followup_due]]),
            el("h3", {}, say("facts")), el("p", { class: "text", id: "case-facts" }, k.facts || ""),
            k.claims ? [el("h3", {}, say("claims")), el("p", { class: "text" }, k.claims)] : null),
          el("section", { class: "box", id: "parties-box" }, el("h3", {}, say("parties")), parties, reveal, partyEdit),
          el("section", { class: "box" }, el("h3", {}, say("events")), events),
          agreements),
        steps)]);
    document.title = (k.case_no || "") + " · " + say("title");
  }

  // ---- an agreement ----

  var agreementTexts = [["parties_details", "part1"], ["facts_and_liability", "part2"], ["rights_obligations", "part3"]];

  // An agreement as the page names it: its place among the case's
  // agreements (the ids grow as they are made), "第2份协议".
  function agreementName(d, id) {
    var i = d.agreements.map(function (x) { return x.id; }).indexOf(id);
    return i < 0 ? id.slice(0, 8) : say("agreementN", { n: i + 1 });
  }

  // A new agreement supplements the signed one given (补充协议).
  function agreementView(caseId, agreementId, supplements) {
    load("/api/case?id=" + encodeURIComponent(caseId), function (d) { drawAgreement(d, agreementId, supplements); });
  }

  function drawAgreement(d, agreementId, supplementsId) {
    var k = d["case"];
    var a = d.agreements.filter(function (x) { return x.id === agreementId; })[0] || null;
    var locked = a && a.locked;
    var baseId = a ? a.supplements : supplementsId;
    var base = baseId ? d.agreements.filter(function (x) { return x.id === baseId; })[0] || null : null;
    var supplementsLine = baseId ? el("p", { class: "supplements", id: "agreement-supplements" },
      say("supplementsLine", { a: agreementName(d, baseId), d: (base && base.signed_at || "").slice(0, 10) })) : null;
    var msg = el("p", { class: "message", role: "status", id: "agreement-message" });
    var form = el("form", { id: "agreement-form" },
      agreementTexts.map(function (t) {
        return el("label", { class: "field" }, say(t[1]), el("textarea", { name: t[0], rows: 3, readonly: locked, value: a && a[t[0]] || "" }));
      }),
      el("fieldset", { class: "party" }, el("legend", {}, say("part4")), el("div", { class: "fields" },
        el("label", { class: "field half" }, say("perfMethod"), el("input", { name: "performance_method", readonly: locked, value: a && a.performance_method || "" })),
        el("label", { class: "field" }, say("perfPlace"), el("input", { name: "performance_place", readonly: locked, value: a && a.performance_place || "" })),
        el("label", { class: "field" }, say("perfDeadline"), el("input", { type: "date", name: "performance_deadline", readonly: locked, value: a && a.performance_deadline || "" })))),
      locked ? null : el("div", { class: "row" }, el("button", { type: "submit", id: "save-agreement" }, say("saveAgreement"))));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = a ? { agreement: a.id } : { id: k.id };
      if (!a && supplementsId) { body.supplements = supplementsId; }
      ["parties_details", "facts_and_liability", "rights_obligations", "performance_method", "performance_place", "performance_deadline"].forEach(function (n) {
        body[n] = form.elements[n].value.trim();
      });
      change("/api/agreement/save", body, form.querySelector("button[type=submit]"), msg, function (nd) {
        var id = a ? a.id : nd.agreements[nd.agreements.length - 1].id;
        if (!a) { history.replaceState(null, "", "#/agreement/" + encodeURIComponent(k.id) + "/" + encodeURIComponent(id)); }
        drawAgreement(nd, id);
        var m = $("agreement-message");
        m.textContent = say("saved");
        m.className = "message ok";
        refreshPill();
      });
    });
    var missing = a ? a.missing : [];
    var onlySignatures = a && missing.every(function (m) { return m.part === 5; });
    var state = !a ? null : el("section", { class: "box " + (a.complete ? "" : "alert"), id: "agreement-state" },
      el("p", {}, a.complete ? el("span", { class: "badge ok", id: "agreement-complete" }, say("complete"))
        : el("span", { class: "badge bad", id: "agreement-incomplete" }, say("incomplete")), " ",
        el("span", { class: "badge" }, locked ? say("signed") : say("unsigned"))),
      missing.length ? [el("p", {}, say("missingTitle")), el("ul", { class: "missing" }, missing.map(function (m) { return el("li", {}, m[H.lang]); }))] : null,
      locked ? el("p", {}, say("signedOn", { d: (a.signed_at || "").slice(0, 10) })) : null,
      !locked && onlySignatures ? signBox(a, k) : null);
    var print = a ? el("button", {
      type: "button", class: "secondary", id: "print-agreement",
      onclick: function () { printAgreement(a.id); }
    }, say("print")) : null;
    // The paper the parties sign carries their numbers in full: that is a
    // reveal, recorded on the case when the ticket for the print is given.
    var printFull = locked ? el("button", {
      type: "button", class: "secondary", id: "print-agreement-full",
      onclick: function (e) {
        change("/api/agreement/print-ticket", { agreement: a.id, lang: H.lang }, e.target, null,
          function (d) { printAgreement(a.id, d.ticket); });
      }
    }, say("printFull")) : null;
    var printFullNote = locked ? el("span", { class: "muted", id: "print-full-note" }, say("revealNote")) : null;
    // Signed means locked: a change is a new, supplementary agreement.
    var supplement = locked ? el("button", {
      type: "button", class: "secondary", id: "new-supplement",
      onclick: function () { location.hash = "#/agreement/" + encodeURIComponent(k.id) + "/new?supplements=" + encodeURIComponent(a.id); }
    }, say("newSupplement")) : null;
    show([el("p", { class: "no-print" }, el("a", { href: "#/case/" + encodeURIComponent(k.id) }, say("backToCase"))),
      el("h2", {}, say(baseId ? "supplementTitle" : "agreementOf", { c: (k.case_no || "") + " " + (k.title || "") })),
      supplementsLine, state, el("section", { class: "box" }, form, msg), el("div", { class: "row no-print" }, print, printFull, printFullNote, supplement)]);
  }

  function signBox(a, k) {
    var msg = el("p", { class: "message", role: "status" });
    var confirmBox = el("div", { hidden: true, id: "sign-confirm" }, el("p", {}, say("signConfirm")),
      el("div", { class: "row" },
        el("button", {
          type: "button", id: "sign-yes",
          onclick: function (e) {
            change("/api/agreement/sign", { agreement: a.id }, e.target, msg, function (nd) { drawAgreement(nd, a.id); refreshPill(); });
          }
        }, say("signYes")),
        el("button", { type: "button", class: "secondary", onclick: function () { confirmBox.hidden = true; } }, say("cancel"))));
    return el("div", {}, el("p", {}, say("readyToSign")),
      el("button", {
        type: "button", id: "sign", onclick: function () {
          confirmBox.hidden = false;
          $("sign-yes").focus();
        }
      }, say("sign")), confirmBox, msg);
  }

  // The paper form (ledger/agreement_html.c) in a hidden frame of this
  // page, printed by the browser: A4, as the form lays itself out. With a
  // ticket (POST /api/agreement/print-ticket) the numbers are in full.
  function printAgreement(id, ticket) {
    var old = document.querySelector("iframe.print");
    if (old) { old.remove(); }
    var frame = el("iframe", { class: "print", title: say("print"), src: "/print/agreement?id=" + encodeURIComponent(id) + "&lang=" + H.lang +
      (ticket ? "&ticket=" + encodeURIComponent(ticket) : "") });
    frame.addEventListener("load", function () { frame.contentWindow.focus(); frame.contentWindow.print(); });
    document.body.appendChild(frame);
  }

  // ---- contacts ----

  function contactsView(params) {
    var form = el("form", { class: "row", role: "search" },
      el("label", {}, say("contactSearch"), el("input", { type: "search", name: "q", value: params.q || "", maxlength: 100 })),
      el("button", { type: "submit" }, say("find")));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      location.hash = "#/contacts" + query({ q: form.elements.q.value });
    });
    var box = el("div", {}, el("p", { class: "muted" }, say("loading")));
    show([el("h2", {}, say("contacts")), el("section", { class: "box" }, form), box]);
    load("/api/contacts" + query(params), function (d) {
      box.textContent = "";
      append(box, d.contacts.length ? el("table", { id: "contacts" },
        el("thead", {}, el("tr", {}, ["name", "phone", "idNo", "address", "onCases"].map(function (h) { return el("th", {}, say(h)); }))),
        el("tbody", {}, d.contacts.map(function (c) {
          return el("tr", {}, el("td", {}, c.name), el("td", {}, c.phone), el("td", {}, c.id_no), el("td", {}, c.address),
            el("td", {}, c.cases.map(function (k) { return el("div", {}, caseLink(k), " ", el("span", { class: "muted" }, word("roles", k.role))); })));
        }))) : el("p", { class: "muted" }, say("none")));
    });
    form.elements.q.focus();
  }

  // ---- enrolment ----

  function enrolView() {
    var msg = el("p", { class: "message", role: "status", id: "enrol-message" });
    var code = el("textarea", { name: "code", id: "enrol-code", rows: 3, maxlength: 1000, spellcheck: "false", autocomplete: "off" });
    var button = el("button", { type: "submit", id: "enrol" }, say("enrol"));
    var form = el("form", {}, el("label", { class: "field" }, say("enrolCode"), code), el("div", { class: "row" }, button), msg);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      msg.textContent = say("enrolling");
      msg.className = "message ok";
      change("/api/enroll", { code: code.value }, button, msg, function (s) {
        session = s;
        render();
        var done = say("enrolled", { v: s.village_name || s.village });
        refreshPill();
        if (location.hash !== "#/today") {
          flash = done;
          location.hash = "#/today";
        } else {
          notice(done, true);
          route();
        }
      });
    });
    show([el("h2", {}, say("enrolTitle")),
      session.village ? null : el("p", { class: "message" }, say("noVillage")),
      el("section", { class: "box" }, el("p", {}, say("enrolHelp")), form)]);
    code.focus();
  }

  // ---- the frame ----

  function route() {
    var f = fragment();
    var view = f.parts[0] || "today";
    if (!session.village) { view = "enrol"; }
    document.querySelectorAll("nav a").forEach(function (a) {
      var v = a.getAttribute("data-view");
      a.className = v === view || (v === "cases" && (view === "case" || view === "agreement")) ? "current" : "";
      if (a.className) { a.setAttribute("aria-current", "page"); } else { a.removeAttribute("aria-current"); }
    });
    document.title = say("title");
    if (view === "case" && f.parts[1]) { caseView(f.parts[1]); } else if (view === "agreement" && f.parts[1]) {
      agreementView(f.parts[1], f.parts[2] || "new", f.params.supplements);
    } else if (view === "new") { newCaseView(); } else if (view === "cases") { casesView(f.params); } else if (view === "contacts") {
      contactsView(f.params);
    } else if (view === "enrol") { enrolView(); } else { todayView(); }
    if (view !== "new" && view !== "enrol" && view !== "cases" && view !== "contacts") { $("view").focus({ preventScroll: true }); }
  }

  function render() {
    H.translate();
    var name = session.village_name || session.village;
    $("village-name").textContent = name ? name + " · " + say("title") : say("title");
    $("nav-enrol").hidden = !!session.enrolled;
  }

  function boot() {
    return request("GET", "/api/session").then(function (r) {
      if (r.status !== 200) { notice(failure(r)); return null; }
      session = r.data;
      render();
      return request("GET", "/api/vocabulary");
    }).then(function (r) {
      if (!r) { return; }
      H.vocab = r.data;
      route();
      if (session.village) { refreshPill(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    H.languages(render, route);
    window.addEventListener("hashchange", function () {
      notice(flash, true);
      flash = "";
      route();
    });
    boot();
  });
}());

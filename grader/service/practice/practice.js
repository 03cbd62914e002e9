/* The practice page of `grader serve`: pick a task, read it, edit the template, grade, read the feedback.

   It is a client of the service's public API and nothing more (GET /v1/tasks, GET /v1/tasks/{id},
   POST /v1/gradings, GET /v1/gradings/{id}): every grading has the limits, the sandbox, the queue, the
   quota and the token checks of any other. The page holds no token; when the service asks for one
   (401), the student types it, and it is kept in this tab's sessionStorage only.

   What comes from the service or from the student's code is never markup here: texts go in as
   textContent, and the feedback page (which forbids every script by its own policy) is shown in a
   frame with an empty sandbox attribute (no script, an origin of its own), given as srcdoc. */
"use strict";

(function () {
  const LABELS = PRACTICE_LABELS;
  const LANGS = ["zh", "en"];
  const KEY = "cnn-grader-practice:";
  const POLL_WAIT_SECONDS = 10;
  const POLL_FAILURES = 5; // network failures in a row while waiting for a grading
  const GRADING_PATH = /^\/v1\/gradings\/[0-9a-f]{32}$/;
  const TESTING_REFRESH_MS = 3000;

  const $ = (id) => document.getElementById(id);
  const ui = {
    workspace: $("workspace"), taskField: $("task-field"), select: $("task-select"), tokenButton: $("token-button"), tokenPanel: $("token-panel"),
    tokenMessage: $("token-message"), tokenInput: $("token-input"), tokenUse: $("token-use"),
    tokenForget: $("token-forget"), loading: $("task-loading"), title: $("task-title"),
    notice: $("task-notice"), description: $("task-description"), limits: $("task-limits"),
    cases: $("task-cases"), casesBody: $("task-cases-body"), files: $("task-files"),
    filesBody: $("task-files-body"), module: $("module-name"), reset: $("reset"), source: $("source"),
    grade: $("grade"), status: $("status"), result: $("result"), feedbackLang: $("feedback-lang"),
    frame: $("feedback"),
  };
  const state = {
    lang: "en", token: "", tasks: null, task: null, busy: false, retryUntil: 0, retryTimer: 0, status: null,
    gradedLang: null, escaped: false, selecting: 0, undo: null,
  };

  // --- storage: drafts and choices in this browser, the token in this tab ----------------------

  function stored(area, name) {
    try { return window[area].getItem(KEY + name); } catch (e) { return null; }
  }

  function store(area, name, value) {
    try {
      if (value === null) window[area].removeItem(KEY + name);
      else window[area].setItem(KEY + name, value);
    } catch (e) { /* storage full or off: the page works without it */ }
  }

  // --- labels ---------------------------------------------------------------------------------

  function t(key, values) {
    const text = key in LABELS[state.lang] ? LABELS[state.lang][key] : key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (values && name in values ? String(values[name]) : whole));
  }

  function element(tag, text, className) {
    const made = document.createElement(tag);
    if (text !== undefined) made.textContent = text;
    if (className) made.className = className;
    return made;
  }

  function applyLabels() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.title = t("app_title");
    for (const node of document.querySelectorAll("[data-label]")) node.textContent = t(node.dataset.label);
    for (const node of document.querySelectorAll("[data-label-placeholder]")) {
      node.placeholder = t(node.dataset.labelPlaceholder);
    }
    for (const node of document.querySelectorAll("[data-label-title]")) node.title = t(node.dataset.labelTitle);
    for (const button of document.querySelectorAll("[data-lang]")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
    }
    if (ui.tokenPanel.dataset.reason) ui.tokenMessage.textContent = t(ui.tokenPanel.dataset.reason);
    renderOptions();
    renderTask();
    renderStatus();
    ui.feedbackLang.hidden = !state.gradedLang || state.gradedLang === state.lang;
    updateButton();
  }

  function chooseLanguage(lang) {
    state.lang = lang;
    store("localStorage", "lang", lang);
    applyLabels();
  }

  // --- the status line: one message, re-worded when the language changes ------------------------

  function showStatus(kind, key, values, detail, action) {
    state.status = { kind, key, values, detail, action };
    renderStatus();
  }

  function clearStatus() {
    state.status = null;
    renderStatus();
  }

  function renderStatus() {
    const status = state.status;
    ui.status.replaceChildren();
    ui.status.hidden = !status;
    if (!status) return;
    ui.status.className = "status " + status.kind;
    ui.status.append(element("span", t(status.key, status.values), "message"));
    if (status.action) {
      const button = element("button", t(status.action.key), "link");
      button.type = "button";
      button.addEventListener("click", status.action.run);
      ui.status.append(" ", button);
    }
    if (status.detail) {
      const detail = element("span", status.detail, "detail");
      ui.status.append(detail);
    }
  }

  // --- the API ----------------------------------------------------------------------------------

  async function call(path, method, body) {
    const headers = { Accept: "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method: method || "GET", headers, body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store", credentials: "omit", redirect: "error",
      });
    } catch (e) {
      return { status: 0, body: null, headers: new Headers() };
    }
    let parsed = null;
    if ((response.headers.get("Content-Type") || "").includes("json")) {
      try { parsed = await response.json(); } catch (e) { parsed = null; }
    }
    return { status: response.status, body: parsed, headers: response.headers };
  }

  function problemKind(reply) {
    const type = reply.body && typeof reply.body.type === "string" ? reply.body.type : "";
    return type.slice(type.lastIndexOf("/") + 1);
  }

  function problemDetail(reply) {
    return reply.body && typeof reply.body.detail === "string" ? reply.body.detail : "";
  }

  function retryAfter(reply) {
    const seconds = parseInt(reply.headers.get("Retry-After") || "", 10);
    return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 900) : 5;
  }

  const WAIT_AND_RETRY = { "queue-full": "queue_full", "not-ready": "not_ready", "draining": "draining",
    "quota-exceeded": "quota" };

  /** Say what an answer that is not the expected one means for the student, and what to do. */
  function explain(reply) {
    const kind = problemKind(reply);
    const detail = problemDetail(reply);
    if (reply.status === 0) return showStatus("bad", "network");
    if (reply.status === 401) {
      const reason = state.token ? "token_wrong" : "token_needed";
      state.token = ""; // a token is kept only once the service took it
      store("sessionStorage", "token", null);
      askForToken(reason);
      if (state.tasks === null) ui.workspace.hidden = true; // nothing to show before the token: the panel says why
      return state.task ? showStatus("warn", reason) : clearStatus();
    }
    if (reply.status === 403) return showStatus("bad", "token_forbidden", {}, detail);
    if (kind === "task-refused") {
      const teacher = reply.body && typeof reply.body.task === "string" ? detail : "";
      return showStatus("bad", "refused_notice", {}, teacher && t("for_teacher") + " " + teacher);
    }
    if (Object.hasOwn(WAIT_AND_RETRY, kind)) return waitBeforeRetry(WAIT_AND_RETRY[kind], retryAfter(reply));
    if (reply.status === 413) return showStatus("bad", "too_large", {}, detail);
    if (kind === "unknown-task") return showStatus("bad", "unknown_task");
    if (reply.status === 422 || reply.status === 400) return showStatus("bad", "unreadable", {}, detail);
    return showStatus("bad", "unexpected", { status: reply.status }, detail);
  }

  function waitBeforeRetry(key, seconds) {
    state.retryUntil = Date.now() + seconds * 1000;
    window.clearInterval(state.retryTimer);
    const tick = () => {
      const left = Math.ceil((state.retryUntil - Date.now()) / 1000);
      if (left <= 0) {
        window.clearInterval(state.retryTimer);
        state.retryUntil = 0;
      } else if (state.status && state.status.key === key) {
        state.status.values = { seconds: left };
        renderStatus();
      }
      updateButton();
    };
    state.retryTimer = window.setInterval(tick, 250);
    showStatus("warn", key, { seconds });
    updateButton();
  }

  // --- the token ----------------------------------------------------------------------------------

  function askForToken(reason) {
    ui.tokenPanel.hidden = false;
    ui.tokenPanel.dataset.reason = reason;
    ui.tokenMessage.textContent = t(reason);
    ui.tokenButton.hidden = false;
    ui.tokenInput.focus();
  }

  function useToken() {
    const token = ui.tokenInput.value.trim();
    if (!token && state.token && state.tasks !== null) {
      ui.tokenPanel.hidden = true; // nothing typed: keep the token the service took
      return;
    }
    if (!token) return ui.tokenInput.focus();
    state.token = token;
    ui.tokenInput.value = "";
    ui.tokenPanel.hidden = true;
    delete ui.tokenPanel.dataset.reason;
    clearStatus();
    loadTasks();
  }

  function forgetToken() {
    state.token = "";
    ui.tokenInput.value = "";
    store("sessionStorage", "token", null);
    askForToken("token_needed");
  }

  // --- tasks ----------------------------------------------------------------------------------

  function textIn(text) {
    if (text && typeof text === "object") return String(text[state.lang] || text.en || "");
    return String(text || "");
  }

  function renderOptions() {
    if (!state.tasks) return;
    const chosen = ui.select.value;
    ui.select.replaceChildren();
    for (const task of state.tasks) {
      const suffix = task.state === "testing" ? " " + t("task_testing") : task.state === "refused" ? " " + t("task_refused") : "";
      const option = element("option", textIn(task.title) + suffix);
      option.value = task.id;
      ui.select.append(option);
    }
    if (chosen) ui.select.value = chosen;
    ui.select.disabled = state.tasks.length === 0;
  }

  async function loadTasks() {
    const reply = await call("/v1/tasks");
    if (reply.status !== 200 || !reply.body || !Array.isArray(reply.body.tasks)) {
      explain(reply);
      return;
    }
    if (state.token) store("sessionStorage", "token", state.token);
    const first = state.tasks === null;
    state.tasks = reply.body.tasks;
    ui.loading.hidden = true;
    ui.workspace.hidden = false;
    ui.taskField.hidden = false;
    renderOptions();
    if (state.tasks.length === 0) {
      showStatus("warn", "no_tasks");
      return;
    }
    if (first || !state.task) {
      const known = (id) => id && state.tasks.some((task) => task.id === id);
      const asked = new URLSearchParams(window.location.search).get("task");
      const serving = state.tasks.find((task) => task.state === "serving");
      const wanted = [asked, stored("localStorage", "task")].find(known) || (serving || state.tasks[0]).id;
      await selectTask(wanted);
    } else {
      renderTask();
    }
    if (state.tasks.some((task) => task.state === "testing")) window.setTimeout(loadTasks, TESTING_REFRESH_MS);
  }

  async function selectTask(id) {
    const selecting = ++state.selecting;
    ui.select.value = id;
    const reply = await call("/v1/tasks/" + encodeURIComponent(id));
    if (selecting !== state.selecting) return; // another task was chosen meanwhile
    if (reply.status !== 200 || !reply.body) {
      explain(reply);
      return;
    }
    state.task = reply.body;
    store("localStorage", "task", id);
    renderTask();
    const draft = stored("localStorage", "draft:" + id);
    clearStatus();
    if (draft !== null && draft !== state.task.template) {
      ui.source.value = draft;
      showStatus("info", "draft_restored");
    } else {
      ui.source.value = state.task.template;
    }
    ui.source.disabled = false;
    ui.reset.disabled = false;
    updateButton();
  }

  function listedState(id) {
    const listed = state.tasks && state.tasks.find((task) => task.id === id);
    return listed ? listed.state : "serving";
  }

  function renderTask() {
    const task = state.task;
    if (!task) return;
    ui.title.textContent = textIn(task.title);
    ui.description.textContent = textIn(task.description).trim();
    const limits = task.limits || {};
    ui.limits.textContent = t("limits", { wall: limits.wall_seconds, cpu: limits.cpu_seconds, memory: limits.memory_mb });
    ui.module.textContent = task.module + ".py";

    const listed = listedState(task.id);
    ui.notice.replaceChildren();
    ui.notice.hidden = listed === "serving";
    if (listed === "refused") {
      ui.notice.className = "notice bad";
      ui.notice.append(element("p", t("refused_notice")));
      const problem = (state.tasks.find((item) => item.id === task.id) || {}).problem;
      if (problem) ui.notice.append(element("p", t("for_teacher") + " " + problem, "detail"));
    } else if (listed === "testing") {
      ui.notice.className = "notice info";
      ui.notice.append(element("p", t("testing_notice")));
    }

    ui.casesBody.replaceChildren();
    for (const visible of task.visible_cases || []) {
      const row = element("tr");
      const name = element("td");
      name.append(element("code", visible.name));
      if (visible.title) name.append(element("div", textIn(visible.title), "dim small"));
      const params = Object.entries(visible.params || {}).map(([key, value]) => key + "=" + value).join(", ");
      row.append(name, element("td", params, "mono"));
      ui.casesBody.append(row);
    }
    ui.cases.hidden = !(task.visible_cases || []).length;

    ui.filesBody.replaceChildren();
    for (const [file, source] of Object.entries(task.support_files || {})) {
      ui.filesBody.append(element("h3", file, "mono"), element("pre", source, "code"));
    }
    ui.files.hidden = !Object.keys(task.support_files || {}).length;
    updateButton();
  }

  // --- the editor -----------------------------------------------------------------------------

  let saving = 0;

  function keepDraft() {
    if (!state.task) return;
    const id = state.task.id;
    const text = ui.source.value;
    window.clearTimeout(saving);
    saving = window.setTimeout(() => store("localStorage", "draft:" + id, text === state.task.template ? null : text), 300);
  }

  function insert(text) {
    // execCommand keeps the browser's undo history; setRangeText is the fallback where it is gone.
    if (!document.execCommand || !document.execCommand("insertText", false, text)) {
      ui.source.setRangeText(text, ui.source.selectionStart, ui.source.selectionEnd, "end");
      keepDraft();
    }
  }

  function onEditorKey(event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      grade();
      return;
    }
    if (event.key === "Escape") {
      state.escaped = true;
      return;
    }
    if (event.key === "Tab" && !event.shiftKey && !state.escaped && !event.ctrlKey && !event.altKey) {
      event.preventDefault();
      insert("    ");
    }
    state.escaped = false;
  }

  function restoreTemplate() {
    if (!state.task) return;
    const before = ui.source.value;
    ui.source.value = state.task.template;
    keepDraft();
    showStatus("info", "reset_done", {}, "", {
      key: "undo", run: () => { ui.source.value = before; keepDraft(); clearStatus(); },
    });
  }

  // --- grading --------------------------------------------------------------------------------

  function updateButton() {
    const waiting = Math.ceil((state.retryUntil - Date.now()) / 1000);
    ui.grade.disabled = state.busy || !state.task || waiting > 0 || listedState(state.task && state.task.id) === "refused";
    ui.grade.textContent = state.busy ? t("grading_button") : waiting > 0 ? t("retry_button", { seconds: waiting }) : t("grade");
    ui.grade.setAttribute("aria-busy", String(state.busy));
  }

  function gradingPath(reply) {
    const location = reply.headers.get("Location") || "";
    if (GRADING_PATH.test(location)) return location;
    const id = reply.body && typeof reply.body.id === "string" ? reply.body.id : "";
    return GRADING_PATH.test("/v1/gradings/" + id) ? "/v1/gradings/" + id : null;
  }

  function unfinished(reply) {
    return (reply.status === 200 || reply.status === 202) && reply.body &&
      (reply.body.state === "queued" || reply.body.state === "running");
  }

  const pause = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

  async function grade() {
    if (state.busy || !state.task || Date.now() < state.retryUntil) return;
    const source = ui.source.value;
    if (!source.trim()) return showStatus("warn", "empty");
    state.busy = true;
    updateButton();
    const started = Date.now();
    let phase = { key: "grading", values: {} };
    const show = () => showStatus("info", phase.key, { ...phase.values, seconds: Math.round((Date.now() - started) / 1000) });
    show();
    const timer = window.setInterval(show, 500);
    try {
      let reply = await call("/v1/gradings", "POST", { task: state.task.id, source, lang: state.lang, format: "html" });
      let path = null; // the grading being waited for (its Location)
      let failures = 0; // polls in a row that did not arrive
      for (;;) {
        if (unfinished(reply)) {
          path = gradingPath(reply) || path;
          failures = 0;
          phase = reply.body.state === "running" ? { key: "running", values: {} }
            : { key: "queued", values: { position: reply.body.queue_position || 1 } };
          show();
        } else if (reply.status === 0 && path && failures < POLL_FAILURES) {
          await pause(1000 * failures);
        } else {
          break;
        }
        if (!path) break;
        reply = await call(path + "?wait=" + POLL_WAIT_SECONDS);
        if (reply.status === 0) failures += 1;
      }
      window.clearInterval(timer);
      if (reply.status === 200 && reply.body && reply.body.feedback) showGrading(reply.body);
      else if (reply.status === 404 && path) showStatus("bad", "lost");
      else explain(reply);
    } finally {
      window.clearInterval(timer);
      state.busy = false;
      updateButton();
    }
  }

  function showGrading(grading) {
    const feedback = grading.feedback;
    const points = { score: feedback.score, max: feedback.max_score };
    if (grading.state === "error" || feedback.status === "error") {
      showStatus("bad", "grader_error", {}, typeof feedback.error === "string" ? feedback.error : "");
    } else if (feedback.status === "passed") {
      showStatus("ok", "passed", points);
    } else {
      showStatus("bad", "failed", points);
    }
    // srcdoc, in a frame whose sandbox allows nothing: the page is never part of this one.
    ui.frame.srcdoc = typeof grading.rendered === "string" ? grading.rendered : "";
    state.gradedLang = grading.lang;
    ui.feedbackLang.hidden = grading.lang === state.lang;
    ui.result.hidden = false;
    if (ui.result.getBoundingClientRect().top > window.innerHeight - 80) ui.result.scrollIntoView({ block: "start" });
  }

  // --- start ----------------------------------------------------------------------------------

  function start() {
    const asked = new URLSearchParams(window.location.search).get("lang");
    const saved = stored("localStorage", "lang");
    const browser = (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
    state.lang = [asked, saved].find((lang) => LANGS.includes(lang)) || browser;
    state.token = stored("sessionStorage", "token") || "";
    if (state.token) ui.tokenButton.hidden = false;

    for (const button of document.querySelectorAll("[data-lang]")) {
      button.addEventListener("click", () => chooseLanguage(button.dataset.lang));
    }
    ui.select.addEventListener("change", () => selectTask(ui.select.value));
    ui.source.addEventListener("input", keepDraft);
    ui.source.addEventListener("keydown", onEditorKey);
    ui.grade.addEventListener("click", grade);
    ui.reset.addEventListener("click", restoreTemplate);
    ui.tokenButton.addEventListener("click", () => askForToken(state.token ? "token_kept" : "token_needed"));
    ui.tokenUse.addEventListener("click", useToken);
    ui.tokenInput.addEventListener("keydown", (event) => { if (event.key === "Enter") useToken(); });
    ui.tokenForget.addEventListener("click", forgetToken);
    applyLabels();
    loadTasks();
  }

  start();
})();

/*
 * pam_latchkey: lets a person unlock with their phone — over Bluetooth when a paired phone is
 * near, an approval when the workstation is online, else a one-time offline PIN (docs/pam.md).
 * Only the PAM entry points live here;
 * every decision is the agent's
 * (docs/ipc.md). The module asks, maps the answer, and otherwise steps aside so the
 * password path always works.
 */
#define _GNU_SOURCE
#include "handle-connection.h"
#include "ipc-codec.h"
#include "options.h"
#include "transport.h"

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* Texts for when the agent sent no `message` (docs/offline-pins.md "Messages a person sees"). */
#define FALLBACK_REJECTED "That PIN didn't work — type the next offline PIN from your phone."
#define FALLBACK_UNAVAILABLE "Offline PINs are unavailable right now — use your password."
#define FALLBACK_LOCKED_LATER "Too many attempts — try again later."
#define FALLBACK_APPROVE "Approve the sign-in on your phone…"
#define FALLBACK_NO_ANSWER "No answer from your phone — type an offline PIN or your password."
#define FALLBACK_APPROVE_BLE "Approve on your phone…"
/* push=ask (docs/pam.md "push="): the first prompt when a phone could approve. */
#define ASK_PROMPT_PIN "Offline PIN (or Enter to approve on your phone): "
#define ASK_PROMPT_ENTER "Press Enter to approve on your phone: "
/* The agent waits online_wait (or ble_wait); the exchange may take that long plus this much. */
#define PHONE_EXCHANGE_MARGIN_MS 2000u
#define CONTEXT_PREFIX "pam:"

struct session {
  pam_handle_t *pamh;
  const struct lk_options *options;
  const char *user;
  int silent;
  struct lk_connection *conn; /* the handle's connection to the agent (handle-connection.h) */
};

static uint32_t new_request_id(void) {
  uint32_t id = 0;
  if (getrandom(&id, sizeof id, GRND_NONBLOCK) != (ssize_t)sizeof id)
    id = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
  return id;
}

static void say(const struct session *s, int style, const char *text) {
  if (!s->silent && text != NULL && text[0] != '\0') pam_prompt(s->pamh, style, NULL, "%s", text);
}

static const char *message_or(const struct lk_reply *reply, const char *fallback) {
  return (reply->present & LK_HAS_MESSAGE) && reply->message[0] != '\0' ? reply->message : fallback;
}

static void say_locked(const struct session *s, const struct lk_reply *reply) {
  char text[96];
  const char *line = FALLBACK_LOCKED_LATER;
  if (!(reply->present & LK_HAS_MESSAGE) && (reply->present & LK_HAS_RETRY_AFTER)) {
    unsigned long minutes = (reply->retry_after + 59ul) / 60ul;
    snprintf(text, sizeof text, "Too many attempts — try again in %lu minute%s.", minutes,
             minutes == 1 ? "" : "s");
    line = text;
  }
  say(s, PAM_ERROR_MSG, message_or(reply, line));
}

/*
 * One exchange on the session's connection (frame is wiped once sent); a reply to another
 * request is malformed and ends the connection. 0 on success.
 */
static int ask(const struct session *s, uint8_t *frame, size_t length, uint32_t id,
               const char *what, unsigned timeout_ms, struct lk_reply *reply) {
  enum lk_parse_result parsed = LK_PARSE_OK;
  enum lk_exchange_result result =
      lk_exchange_on(s->conn, s->options->socket_path, s->options->agent_uid, timeout_ms, frame,
                     length, reply, &parsed);
  if (result == LK_EXCHANGE_OK && reply->request_id == id) return 0;
  lk_disconnect(s->conn);
  if (result == LK_EXCHANGE_UNTRUSTED) {
    pam_syslog(s->pamh, LOG_ERR, "%s for %s: refusing the listener on %s: it runs as uid %ld, not agent_uid=%u; falling through",
               what, s->user, s->options->socket_path, s->conn->peer_uid, s->options->agent_uid);
    return -1;
  }
  pam_syslog(s->pamh, LOG_WARNING, "%s for %s: %s%s%s (socket %s); falling through", what,
             s->user, result == LK_EXCHANGE_OK ? "reply to another request" : lk_exchange_result_name(result),
             result == LK_EXCHANGE_MALFORMED ? ": " : "",
             result == LK_EXCHANGE_MALFORMED ? lk_parse_result_name(parsed) : "", s->options->socket_path);
  return -1;
}

/* What status said: try the phone over Bluetooth, then online, first? prompt for a PIN? */
struct plan {
  int ble;
  int online;
  int prompt;
  int code; /* the answer when neither happens: PAM_IGNORE or PAM_MAXTRIES */
  struct lk_reply status;
};

/* Before any prompt: asks status and plans (docs/ipc.md "Online sign-in at the lock screen"). */
static void plan_for(const struct session *s, struct plan *p) {
  uint8_t frame[LK_REQUEST_FRAME_MAX];
  struct lk_reply *reply = &p->status;
  uint32_t id = new_request_id();
  size_t length = lk_encode_status(frame, sizeof frame, id, s->user);
  p->ble = p->online = p->prompt = 0;
  p->code = PAM_IGNORE;
  if (length == 0 || ask(s, frame, length, id, "status", s->options->timeout_ms, reply) != 0) return;
  if (s->options->debug)
    pam_syslog(s->pamh, LOG_DEBUG, "status for %s: status=%d online=%d offlineMode=%d usable=%d locked=%d remaining=%u reason=%s ble=%d",
               s->user, (int)reply->status, reply->online, reply->offline_mode, reply->usable, reply->locked,
               reply->remaining, (reply->present & LK_HAS_REASON) ? reply->reason : "-", reply->ble);
  if (reply->status == LK_STATUS_UNAVAILABLE) { /* a fault on the agent's side: say so, then the password */
    say(s, PAM_TEXT_INFO, message_or(reply, FALLBACK_UNAVAILABLE));
    return;
  }
  if (reply->status != LK_STATUS_OK) return;
  p->ble = reply->ble && s->options->ble_wait_ms > 0;
  p->online = reply->online && s->options->online_wait_ms > 0;
  if (!reply->offline_mode) return; /* silent: no offline PINs here */
  if (reply->locked) {
    p->code = PAM_MAXTRIES;
    return;
  }
  p->prompt = reply->usable;
}

/* Says why no PIN is asked for, once online sign-in did not decide. */
static void explain_no_prompt(const struct session *s, const struct plan *p) {
  const struct lk_reply *reply = &p->status;
  if (reply->status != LK_STATUS_OK || !reply->offline_mode) return;
  if (reply->locked) {
    say_locked(s, reply);
    return;
  }
  /* exhausted or expired: say so; "no pool" and "offline mode off" stay silent */
  int quiet = !(reply->present & LK_HAS_REASON) || strcmp(reply->reason, "no-pool") == 0 ||
              strcmp(reply->reason, "offline-mode-off") == 0;
  if (!reply->usable && !quiet) say(s, PAM_TEXT_INFO, message_or(reply, NULL));
}

static void discard(char *answer) {
  if (answer == NULL) return;
  explicit_bzero(answer, strlen(answer));
  free(answer);
}

enum answer_kind { ANSWER_TEXT, ANSWER_EMPTY, ANSWER_FAILED };

/* Asks with echo off. *answer is the typed text (ANSWER_TEXT only; the caller wipes and frees it). */
static enum answer_kind ask_person(const struct session *s, const char *prompt, char **answer) {
  char *typed = NULL;
  int asked = pam_prompt(s->pamh, PAM_PROMPT_ECHO_OFF, &typed, "%s", prompt);
  *answer = NULL;
  if (asked != PAM_SUCCESS || typed == NULL) {
    discard(typed); /* a failed conversation may still hand text back */
    return ANSWER_FAILED;
  }
  if (typed[0] == '\0') {
    free(typed);
    return ANSWER_EMPTY;
  }
  *answer = typed;
  return ANSWER_TEXT;
}

static void context_for(pam_handle_t *pamh, char out[LK_CONTEXT_MAX + 1]) {
  const size_t prefix = sizeof CONTEXT_PREFIX - 1;
  const void *item = NULL;
  strcpy(out, CONTEXT_PREFIX);
  if (pam_get_item(pamh, PAM_SERVICE, &item) != PAM_SUCCESS || item == NULL) return;
  const char *service = item;
  size_t n = strnlen(service, LK_CONTEXT_MAX + 1);
  if (prefix + n <= LK_CONTEXT_MAX && lk_valid_text((const uint8_t *)service, n))
    memcpy(out + prefix, service, n + 1);
}

/* What the agent's decisions mean to PAM, and what the person is told when the agent sent no message. */
static const struct verdict {
  enum lk_status status;
  int code;
  int style;
  const char *fallback;
} verdicts[] = {
    {LK_STATUS_ACCEPTED, PAM_SUCCESS, PAM_TEXT_INFO, "Unlocked."},
    {LK_STATUS_REJECTED, PAM_AUTH_ERR, PAM_ERROR_MSG, FALLBACK_REJECTED},
    {LK_STATUS_UNAVAILABLE, PAM_AUTHINFO_UNAVAIL, PAM_ERROR_MSG, FALLBACK_UNAVAILABLE},
};

/*
 * Maps the agent's decision on a PIN, a Bluetooth unlock or an online sign-in. PAM_SUCCESS comes
 * from exactly one place: the row of an `accepted` reply to this request.
 */
static int decide(const struct session *s, const struct lk_reply *reply, const char *what) {
  if (reply->status == LK_STATUS_LOCKED) {
    say_locked(s, reply);
    return PAM_MAXTRIES;
  }
  for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++) {
    if (verdicts[i].status != reply->status) continue;
    say(s, verdicts[i].style, message_or(reply, verdicts[i].fallback));
    return verdicts[i].code;
  }
  /* `ok` to a decision, or `error`: the module asked wrongly; the password decides */
  pam_syslog(s->pamh, LOG_ERR, "%s for %s: agent answered status %d reason %s", what, s->user,
             (int)reply->status, (reply->present & LK_HAS_REASON) ? reply->reason : "-");
  say(s, PAM_ERROR_MSG, FALLBACK_UNAVAILABLE);
  return PAM_AUTHINFO_UNAVAIL;
}

typedef size_t (*phone_encoder)(uint8_t *out, size_t capacity, uint32_t request_id, const char *user,
                                const char *context, uint32_t wait_ms);

/* One way of asking the phone: over Bluetooth (op 11) or online (op 7), docs/ipc.md. */
struct phone_way {
  const char *what;       /* the op's name, for the log */
  phone_encoder encode;
  unsigned wait_ms;       /* how long the agent may wait for the phone */
  const char *approve;    /* what the person is told while it waits */
};

/*
 * Asks the agent to get the phone's answer, waiting at most way->wait_ms. Returns 1 with *code
 * when the phone decided (accepted or rejected); 0 to go on to the next way, then the PIN.
 */
static int ask_phone(const struct session *s, const struct phone_way *way, int *code) {
  uint8_t frame[LK_REQUEST_FRAME_MAX];
  char context[LK_CONTEXT_MAX + 1];
  struct lk_reply reply;
  uint32_t id = new_request_id();
  context_for(s->pamh, context);
  size_t length = way->encode(frame, sizeof frame, id, s->user, context, way->wait_ms);
  if (length == 0) return 0;
  say(s, PAM_TEXT_INFO, way->approve);
  if (ask(s, frame, length, id, way->what, way->wait_ms + PHONE_EXCHANGE_MARGIN_MS, &reply) != 0) return 0;
  if (s->options->debug)
    pam_syslog(s->pamh, LOG_DEBUG, "%s for %s: status=%d reason=%s", way->what, s->user, (int)reply.status,
               (reply.present & LK_HAS_REASON) ? reply.reason : "-");
  if (reply.status == LK_STATUS_ACCEPTED || reply.status == LK_STATUS_REJECTED) {
    *code = decide(s, &reply, way->what);
    return 1;
  }
  say(s, PAM_TEXT_INFO, message_or(&reply, FALLBACK_NO_ANSWER));
  return 0;
}

/* Sends the PIN (wiped as soon as it is sent) and maps the agent's decision. */
static int verify_pin(const struct session *s, char *pin) {
  uint8_t frame[LK_REQUEST_FRAME_MAX];
  char context[LK_CONTEXT_MAX + 1];
  struct lk_reply reply;
  uint32_t id = new_request_id();
  size_t pin_length = strlen(pin);
  context_for(s->pamh, context);
  size_t length = pin_length <= LK_PIN_MAX
                      ? lk_encode_verify(frame, sizeof frame, id, s->user, (const uint8_t *)pin,
                                         pin_length, context)
                      : 0;
  explicit_bzero(pin, pin_length);
  if (length == 0) {
    /* longer than any PIN (a password typed into the PIN prompt?): let the next module ask */
    return PAM_IGNORE;
  }
  int asked = ask(s, frame, length, id, "verify", s->options->timeout_ms, &reply); /* wipes frame once it is sent */
  explicit_bzero(frame, sizeof frame);                       /* and the unused tail */
  if (asked != 0) {
    say(s, PAM_ERROR_MSG, FALLBACK_UNAVAILABLE);
    return PAM_AUTHINFO_UNAVAIL;
  }
  if (s->options->debug)
    pam_syslog(s->pamh, LOG_DEBUG, "verify for %s: status=%d reason=%s remaining=%u", s->user,
               (int)reply.status, (reply.present & LK_HAS_REASON) ? reply.reason : "-", reply.remaining);
  return decide(s, &reply, "verify");
}

static int64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The phone's turn: over Bluetooth when paired, then online. Returns 1 with *code when the
 * phone decided. With a budget (push=auto, online_wait= not given) both ways together wait at
 * most budget_ms; Bluetooth then gets half of it when online sign-in could follow.
 */
static int ask_phone_ways(const struct session *s, const struct plan *p, unsigned budget_ms, int *code) {
  const struct lk_options *o = s->options;
  unsigned ble_wait = o->ble_wait_ms, online_wait = o->online_wait_ms;
  int64_t started = monotonic_ms();
  if (budget_ms > 0) {
    unsigned ble_share = p->online ? budget_ms / 2 : budget_ms;
    if (ble_wait > ble_share) ble_wait = ble_share;
  }
  const struct phone_way ble = {"ble-auth", lk_encode_ble_auth, ble_wait, FALLBACK_APPROVE_BLE};
  if (p->ble && ask_phone(s, &ble, code)) return 1;
  if (budget_ms > 0) {
    int64_t left = (int64_t)budget_ms - (monotonic_ms() - started);
    if (left <= 0) return 0;
    if ((int64_t)online_wait > left) online_wait = (unsigned)left;
  }
  const struct phone_way online = {"online-auth", lk_encode_online_auth, online_wait, FALLBACK_APPROVE};
  return p->online && ask_phone(s, &online, code);
}

/* The plain PIN prompt, and the agent's decision on what is typed there. */
static int prompt_for_pin(const struct session *s) {
  char *pin = NULL;
  if (ask_person(s, s->options->prompt, &pin) != ANSWER_TEXT) return PAM_IGNORE; /* nothing typed: the password decides */
  int code = verify_pin(s, pin);
  free(pin);
  return code;
}

/*
 * push=ask (docs/pam.md "push="): the person chooses. A PIN typed at the first prompt is checked at
 * once; an empty Enter asks the phone, and the PIN prompt follows when it does not answer.
 */
static int authenticate_asking(const struct session *s, const struct plan *p) {
  char *typed = NULL;
  enum answer_kind answered = ask_person(s, p->prompt ? ASK_PROMPT_PIN : ASK_PROMPT_ENTER, &typed);
  if (answered == ANSWER_FAILED) return PAM_IGNORE;
  if (answered == ANSWER_TEXT) {
    if (!p->prompt) { /* no PIN could work: whatever was typed is not ours (a password?) */
      discard(typed);
      return PAM_IGNORE;
    }
    int code = verify_pin(s, typed);
    free(typed);
    return code;
  }
  int code = PAM_IGNORE;
  if (ask_phone_ways(s, p, 0, &code)) return code;
  if (!p->prompt) {
    explain_no_prompt(s, p);
    return p->code;
  }
  return prompt_for_pin(s);
}

/* Status, then the phone or a PIN as status and push= allow; every exchange on s->conn. */
static int authenticate(const struct session *s) {
  const struct lk_options *options = s->options;
  int code = PAM_IGNORE;
  struct plan plan;
  plan_for(s, &plan);
  if ((plan.ble || plan.online) && options->push == LK_PUSH_ASK) return authenticate_asking(s, &plan);
  /* push=auto, or no phone to ask: the phone first (if any), then the PIN prompt. */
  unsigned budget = options->online_wait_set ? 0 : LK_AUTO_PHONE_BUDGET_MS;
  if (ask_phone_ways(s, &plan, budget, &code)) return code;
  if (!plan.prompt) {
    explain_no_prompt(s, &plan);
    return plan.code;
  }
  return prompt_for_pin(s);
}

EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv) {
  struct lk_options options;
  char error[LK_OPTION_ERROR_MAX];
  const char *user = NULL;
  if (lk_parse_options(argc, argv, &options, error, sizeof error) != 0) {
    pam_syslog(pamh, LOG_ERR, "bad module option: %s; skipping pam_latchkey", error);
    return PAM_IGNORE;
  }
  if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !lk_valid_user(user)) {
    if (options.debug) pam_syslog(pamh, LOG_DEBUG, "no usable user name; skipping");
    return PAM_IGNORE;
  }
  struct lk_connection spare = LK_CONNECTION_INIT;
  struct lk_connection *conn = lk_handle_connection(pamh, options.socket_path, options.agent_uid, user, &spare);
  struct session s = {.pamh = pamh, .options = &options, .user = user, .silent = (flags & PAM_SILENT) != 0, .conn = conn};
  int code = authenticate(&s);
  lk_disconnect(&spare);
  return code;
}

/*
 * No credentials to establish or delete; authentication is over, so the handle's connection
 * to the agent goes. libpam replays the stack that authentication chose and counts this
 * return value, so anything but success here would turn an accepted PIN into a failed login
 * (docs/pam.md "setcred").
 */
EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
  (void)flags, (void)argc, (void)argv;
  lk_drop_handle_connection(pamh);
  return PAM_SUCCESS;
}

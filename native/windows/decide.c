/* docs/windows.md §4.4, the tile's counterpart of docs/pam.md "What it does". */
#include "decide.h"

static const char *agent_said(const struct lk_reply *reply, const char *otherwise) {
  return (reply->present & LK_HAS_MESSAGE) && reply->message[0] != '\0' ? reply->message : otherwise;
}

void lk_view_after_status(enum lk_exchange exchange, const struct lk_reply *reply, int push_auto, int ble_on,
                          int online_on, struct lk_view *view) {
  *view = (struct lk_view){0, 0, 0, 0, 0, LK_SAY_FALLBACK};
  if (exchange != LK_EXCHANGED) return;
  if (reply->status != LK_STATUS_OK) {
    /* unavailable (a state or keystore fault) says why; an error reply is the fallback */
    if (reply->status == LK_STATUS_UNAVAILABLE || reply->status == LK_STATUS_LOCKED) view->message = agent_said(reply, LK_SAY_FALLBACK);
    return;
  }
  view->ble = ble_on && reply->ble == 1;
  view->online = online_on && reply->online == 1;
  view->phone_link = view->ble || view->online;
  view->pin_enabled = reply->usable == 1 && reply->locked == 0;
  if (view->phone_link && push_auto) {
    view->phone_first = 1;
    view->message = LK_SAY_APPROVE;
  } else if (view->phone_link) {
    view->message = view->pin_enabled ? LK_SAY_ASK : LK_SAY_ASK_PHONE_ONLY;
  } else {
    /* no phone: the PIN field alone, or the agent's reason (no pool, used up, expired, locked) */
    view->message = view->pin_enabled ? "" : agent_said(reply, "");
  }
  /* docs/windows.md §6.6: the saved password is stale; a lockout or the phone asked at once says its own */
  if (reply->stale == 1 && !view->phone_first && reply->locked == 0) view->message = LK_SAY_STALE;
}

int lk_decide(enum lk_exchange exchange, const struct lk_reply *reply, uint32_t request_id, const uint8_t *body,
              size_t body_length, struct lk_logon_credential *credential, const char **message) {
  int verdict = 0;
  *message = LK_SAY_FALLBACK;
  if (exchange != LK_EXCHANGED) return verdict;
  switch (reply->status) {
  case LK_STATUS_ACCEPTED: {
    const uint8_t *secret = NULL;
    size_t secret_length = 0;
    *message = reply->stale == 1 ? LK_SAY_STALE : LK_SAY_NO_CREDENTIAL;
    if (reply->request_id == request_id && lk_reply_secret(body, body_length, &secret, &secret_length) &&
        lk_decode_logon_credential(secret, secret_length, credential)) {
      *message = "";
      verdict = 1; /* the only place a credential is made */
    }
    break;
  }
  case LK_STATUS_REJECTED: *message = agent_said(reply, LK_SAY_WRONG_PIN); break;
  case LK_STATUS_LOCKED: *message = agent_said(reply, LK_SAY_LOCKED); break;
  case LK_STATUS_UNAVAILABLE: *message = agent_said(reply, LK_SAY_FALLBACK); break;
  default: break; /* ok, error, anything else: the fallback */
  }
  return verdict;
}

int lk_phone_may_continue(enum lk_exchange exchange, const struct lk_reply *reply) {
  /* docs/pam.md: a phone that declined ends the phone part; one that could not decide goes on */
  return exchange != LK_EXCHANGED || reply->status != LK_STATUS_REJECTED;
}

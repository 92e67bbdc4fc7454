/*
 * The one mapping of the agent's replies to what the tile does (docs/windows.md §4.4): after
 * status, which fields and which sentence; after a PIN or the phone, a credential or not. Pure C
 * over the shared codec's lk_reply: no Windows call.
 */
#ifndef LATCHKEY_DECIDE_H
#define LATCHKEY_DECIDE_H

#include <stddef.h>
#include <stdint.h>

#include "../pam/ipc-codec.h"
#include "logon-credential.h"

/* Sentences of the provider's own, for when the agent gave none (docs/windows.md §4.4). */
#define LK_SAY_FALLBACK "Offline PINs are unavailable right now \xe2\x80\x94 use your password."
#define LK_SAY_WRONG_PIN "That PIN didn't work \xe2\x80\x94 type the next offline PIN from your phone."
#define LK_SAY_LOCKED "Too many attempts \xe2\x80\x94 try again later."
#define LK_SAY_NO_CREDENTIAL "Latchkey could not sign you in to Windows \xe2\x80\x94 use your password."
#define LK_SAY_APPROVE "Approve on your phone\xe2\x80\xa6"
#define LK_SAY_ASK "Type an offline PIN, or choose Approve on my phone."
#define LK_SAY_ASK_PHONE_ONLY "Choose Approve on my phone, or use your password."
#define LK_SAY_BAD_OPTIONS "Latchkey is not set up correctly on this computer \xe2\x80\x94 use your password, and tell IT."
#define LK_SAY_TYPE_USER "Type your user name first."
#define LK_SAY_TYPE_PIN "Type the offline PIN from your phone."
/* docs/windows.md §6.6: Windows refused the handed-back password; until the next capture the agent hands none back */
#define LK_SAY_STALE "Windows did not accept your saved password \xe2\x80\x94 sign in with your password once."
#define LK_SAY_TYPE_PASSWORD "Type your Windows password."

/* How an exchange with the agent went, before its reply is looked at. */
enum lk_exchange { LK_EXCHANGED = 0, LK_NOT_EXCHANGED = 1 };

struct lk_view {
  int pin_enabled; /* a PIN typed now could be accepted */
  int phone_link;  /* a phone could approve (Bluetooth or online) */
  int phone_first; /* Push=auto: ask the phone at once */
  int ble, online; /* which phone routes, in the order they are tried */
  const char *message; /* UTF-8; points into the reply or at a constant; "" for none */
};

/* After status(user, lock-screen); ble_on / online_on: the options leave that phone route on (a wait above 0). */
void lk_view_after_status(enum lk_exchange exchange, const struct lk_reply *reply, int push_auto, int ble_on,
                          int online_on, struct lk_view *view);

/*
 * The one decision: returns 1 and fills *credential only for an `accepted` reply that echoes
 * request_id and whose body carries a logon credential that decodes; otherwise 0 and *message
 * is the sentence to show. body is the reply body lk_parse_reply_body accepted.
 */
int lk_decide(enum lk_exchange exchange, const struct lk_reply *reply, uint32_t request_id, const uint8_t *body,
              size_t body_length, struct lk_logon_credential *credential, const char **message);

/* After a phone attempt that gave no credential: whether to go on to the next route. */
int lk_phone_may_continue(enum lk_exchange exchange, const struct lk_reply *reply);

#endif

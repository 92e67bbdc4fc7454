/* What the provider object and its tile share (docs/windows.md §4). */
#ifndef LATCHKEY_PROVIDER_H
#define LATCHKEY_PROVIDER_H

#include <windows.h>

#include "credentialprovider.h"
#include "options.h"

/* {E78D8514-2B6B-4F08-876B-C0FB28857736}: docs/windows.md §4.1, installer/msi/latchkey.wxs */
DEFINE_GUID(CLSID_LatchkeyProvider, 0xe78d8514, 0x2b6b, 0x4f08, 0x87, 0x6b, 0xc0, 0xfb, 0x28, 0x85, 0x77, 0x36);

/* docs/windows.md §4.3; the password link (§6.1) comes last so the ids before it keep their numbers */
enum lk_field {
  LK_FIELD_TITLE,
  LK_FIELD_USER,
  LK_FIELD_PIN,
  LK_FIELD_PHONE,
  LK_FIELD_STATUS,
  LK_FIELD_SUBMIT,
  LK_FIELD_PASSWORD_LINK,
  LK_FIELD_COUNT
};

/* Objects and locks alive in this DLL: DllCanUnloadNow says no while any is. */
void lk_dll_hold(void);
void lk_dll_release(void);

/*
 * How a tile reaches LogonUI's provider events from its phone worker, whatever thread that is:
 * ref-counted, and emptied by UnAdvise so a late worker calls nobody.
 */
struct lk_notify {
  LONG refs;
  CRITICAL_SECTION lock;
  ICredentialProviderEvents *events;
  UINT_PTR context;
};
void lk_notify_hold(struct lk_notify *notify);
void lk_notify_release(struct lk_notify *notify);
void lk_notify_credentials_changed(struct lk_notify *notify);

struct lk_tile;
HRESULT lk_tile_new(CREDENTIAL_PROVIDER_USAGE_SCENARIO scenario, const struct lk_options *options,
                    struct lk_notify *notify, struct lk_tile **out);
ICredentialProviderCredential *lk_tile_interface(struct lk_tile *tile);
/* 1 when the phone worker left a credential: LogonUI should then log on with this tile at once. */
int lk_tile_has_credential(struct lk_tile *tile);

#endif

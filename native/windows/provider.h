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
 * The IUnknown half of every object this DLL allocates (the provider and its tile): the object
 * starts with its interface, and that interface's QueryInterface, AddRef and Release call these.
 * An object holds the DLL from lk_com_init until its last Release has freed it.
 */
struct lk_com {
  LONG refs;
  const IID *iid;                /* the one interface it has besides IUnknown */
  void (*destroy)(void *object); /* frees the object once the last reference is gone */
};
void lk_com_init(struct lk_com *com, const IID *iid, void (*destroy)(void *object));
HRESULT lk_com_query(void *object, struct lk_com *com, REFIID riid, void **out);
ULONG lk_com_add_ref(struct lk_com *com);
ULONG lk_com_release(void *object, struct lk_com *com);

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

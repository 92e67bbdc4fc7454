/*
 * The MSI's custom action (docs/windows.md §9), deferred and run as SYSTEM: writes
 * %ProgramData%\Latchkey\enroll.json (docs/deployment.md "The enrollment file") with a DACL for
 * SYSTEM and Administrators only, and restarts LatchkeyAgent when it runs, so that running the
 * installer again with new properties reconfigures. It never fails the install: a bad property is
 * a warning naming it, and the workstation stays unenrolled — as the .deb's postinst does.
 *
 * CustomActionData: CONTROLCENTERURL <TAB> INSTALLTOKEN <TAB> WORKSTATIONNAME
 */
#include <windows.h>
#include <aclapi.h>
#include <knownfolders.h>
#include <shlobj.h>
#include <msi.h>
#include <msiquery.h>
#include <sddl.h>
#include <stdio.h>
#include <wchar.h>

#define DATA_MAX 4096
#define TOKEN_PREFIX L"lk_install_"
#define TOKEN_SECRET_CHARS 43
#define NAME_MAX_CHARS 128
#define SERVICE_NAME L"LatchkeyAgent"
/* SYSTEM and Administrators; protected from inheritance. Directories pass it on to what they hold. */
#define DIRECTORY_SDDL L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
#define FILE_SDDL L"D:P(A;;FA;;;SY)(A;;FA;;;BA)"

static void tell(MSIHANDLE install, INSTALLMESSAGE kind, const WCHAR *text) {
  MSIHANDLE record = MsiCreateRecord(1);
  MsiRecordSetStringW(record, 0, L"[1]");
  MsiRecordSetStringW(record, 1, text);
  MsiProcessMessage(install, kind, record);
  MsiCloseHandle(record);
}

static int printable(WCHAR c) { return c >= 0x20 && c != 0x7f && c != L'"' && c != L'\\'; }

static int valid_url(const WCHAR *url) {
  const WCHAR *rest = wcsncmp(url, L"https://", 8) == 0 ? url + 8 : wcsncmp(url, L"http://", 7) == 0 ? url + 7 : NULL;
  if (rest == NULL || *rest == L'\0' || wcslen(url) > 2048) return 0;
  for (; *rest; rest++)
    if (!printable(*rest) || *rest == L' ') return 0;
  return 1;
}

static int valid_token(const WCHAR *token) {
  size_t prefix = wcslen(TOKEN_PREFIX);
  if (wcsncmp(token, TOKEN_PREFIX, prefix) != 0 || wcslen(token) != prefix + TOKEN_SECRET_CHARS) return 0;
  for (const WCHAR *p = token + prefix; *p; p++)
    if (!(iswalnum(*p) && *p < 0x80) && *p != L'_' && *p != L'-') return 0;
  return 1;
}

static int valid_name(const WCHAR *name) {
  size_t n = wcslen(name);
  if (n < 1 || n > NAME_MAX_CHARS) return 0;
  for (; *name; name++)
    if (!printable(*name)) return 0;
  return 1;
}

/* Applies a protected DACL to an existing path. */
static int protect(const WCHAR *path, const WCHAR *sddl) {
  PSECURITY_DESCRIPTOR descriptor = NULL;
  PACL dacl = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  int ok = ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &descriptor, NULL) &&
           GetSecurityDescriptorDacl(descriptor, &present, &dacl, &defaulted) &&
           SetNamedSecurityInfoW((LPWSTR)path, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                                 NULL, NULL, dacl, NULL) == ERROR_SUCCESS;
  if (descriptor != NULL) LocalFree(descriptor);
  return ok;
}

/* Writes the file through a temporary one created with the DACL, then a rename over the old one. */
static int write_enroll_file(const WCHAR *directory, const char *json) {
  WCHAR final_path[MAX_PATH], temp_path[MAX_PATH];
  swprintf(final_path, MAX_PATH, L"%ls\\enroll.json", directory);
  swprintf(temp_path, MAX_PATH, L"%ls\\enroll.json.new", directory);
  SECURITY_ATTRIBUTES attributes = {sizeof attributes, NULL, FALSE};
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(FILE_SDDL, SDDL_REVISION_1, &attributes.lpSecurityDescriptor, NULL)) return 0;
  HANDLE file = CreateFileW(temp_path, GENERIC_WRITE, 0, &attributes, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
  LocalFree(attributes.lpSecurityDescriptor);
  if (file == INVALID_HANDLE_VALUE) return 0;
  DWORD written = 0, length = (DWORD)strlen(json);
  int ok = WriteFile(file, json, length, &written, NULL) && written == length && FlushFileBuffers(file);
  CloseHandle(file);
  ok = ok && MoveFileExW(temp_path, final_path, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) && protect(final_path, FILE_SDDL);
  if (!ok) DeleteFileW(temp_path);
  return ok;
}

/* A re-run with new properties: the agent reads the file at its next start (docs/deployment.md). */
static void restart_agent_if_running(MSIHANDLE install) {
  SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
  SC_HANDLE service = manager ? OpenServiceW(manager, SERVICE_NAME, SERVICE_QUERY_STATUS | SERVICE_STOP | SERVICE_START) : NULL;
  SERVICE_STATUS status;
  if (service != NULL && QueryServiceStatus(service, &status) && status.dwCurrentState == SERVICE_RUNNING) {
    ControlService(service, SERVICE_CONTROL_STOP, &status);
    for (int waited = 0; waited < 300 && QueryServiceStatus(service, &status) && status.dwCurrentState != SERVICE_STOPPED; waited++) Sleep(100);
    if (!StartServiceW(service, 0, NULL)) tell(install, INSTALLMESSAGE_WARNING, L"latchkey: the LatchkeyAgent service did not start again; start it with sc start LatchkeyAgent");
  }
  if (service != NULL) CloseServiceHandle(service);
  if (manager != NULL) CloseServiceHandle(manager);
}

__declspec(dllexport) UINT __stdcall WriteEnrollFile(MSIHANDLE install) {
  WCHAR data[DATA_MAX] = L"", directory[MAX_PATH];
  DWORD size = DATA_MAX;
  if (MsiGetPropertyW(install, L"CustomActionData", data, &size) != ERROR_SUCCESS) return ERROR_SUCCESS;
  WCHAR *url = data, *token = wcschr(url, L'\t'), *name = NULL;
  if (token != NULL) {
    *token++ = L'\0';
    name = wcschr(token, L'\t');
    if (name != NULL) *name++ = L'\0';
  }
  if (token == NULL || token[0] == L'\0') {
    SecureZeroMemory(data, sizeof data);
    return ERROR_SUCCESS; /* no token: an unmanaged workstation, or a re-run that changes nothing */
  }
  if (!valid_url(url)) {
    tell(install, INSTALLMESSAGE_WARNING, L"latchkey: CONTROLCENTERURL is not an http(s) URL; this workstation is not enrolled (run the installer again with a correct one)");
  } else if (!valid_token(token)) {
    tell(install, INSTALLMESSAGE_WARNING, L"latchkey: INSTALLTOKEN is not an install token (lk_install_...); this workstation is not enrolled (run the installer again with a correct one)");
  } else {
    if (name != NULL && name[0] != L'\0' && !valid_name(name)) {
      tell(install, INSTALLMESSAGE_WARNING, L"latchkey: WORKSTATIONNAME must be 1-128 characters without quotes or backslashes; using the host name");
      name = NULL;
    }
    char json[3 * DATA_MAX], url8[3 * 2049], token8[64], name8[3 * (NAME_MAX_CHARS + 1)] = "";
    WideCharToMultiByte(CP_UTF8, 0, url, -1, url8, sizeof url8, NULL, NULL);
    WideCharToMultiByte(CP_UTF8, 0, token, -1, token8, sizeof token8, NULL, NULL);
    if (name != NULL && name[0] != L'\0') WideCharToMultiByte(CP_UTF8, 0, name, -1, name8, sizeof name8, NULL, NULL);
    if (name8[0] != '\0') snprintf(json, sizeof json, "{\"url\":\"%s\",\"installToken\":\"%s\",\"name\":\"%s\"}\n", url8, token8, name8);
    else snprintf(json, sizeof json, "{\"url\":\"%s\",\"installToken\":\"%s\"}\n", url8, token8);
    PWSTR data = NULL;
    int ok = SHGetKnownFolderPath(&FOLDERID_ProgramData, 0, NULL, &data) == S_OK && wcslen(data) < MAX_PATH - 32;
    if (ok) swprintf(directory, MAX_PATH, L"%ls\\Latchkey", data);
    CoTaskMemFree(data);
    ok = ok && (CreateDirectoryW(directory, NULL) || GetLastError() == ERROR_ALREADY_EXISTS) &&
             protect(directory, DIRECTORY_SDDL) && write_enroll_file(directory, json);
    SecureZeroMemory(json, sizeof json);
    SecureZeroMemory(token8, sizeof token8);
    if (ok) {
      tell(install, INSTALLMESSAGE_INFO, L"latchkey: the agent enrolls this workstation at its next start");
      restart_agent_if_running(install);
    } else {
      tell(install, INSTALLMESSAGE_WARNING, L"latchkey: could not write %ProgramData%\\Latchkey\\enroll.json; this workstation is not enrolled");
    }
  }
  SecureZeroMemory(data, sizeof data);
  return ERROR_SUCCESS;
}

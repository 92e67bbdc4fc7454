/* docs/windows.md §4.5: who answers on the pipe is checked before the first request byte. */
#include "pipe-transport.h"

#include <sddl.h>
#include <tlhelp32.h>

#include "../pam/ipc-codec.h"

/* The service's running process, and when it was created; 0 when the service is not running. */
static DWORD service_process(const WCHAR *name) {
  DWORD pid = 0;
  SC_HANDLE manager = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
  if (manager == NULL) return 0;
  SC_HANDLE service = OpenServiceW(manager, name, SERVICE_QUERY_STATUS);
  if (service != NULL) {
    SERVICE_STATUS_PROCESS status;
    DWORD needed = 0;
    if (QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, (BYTE *)&status, sizeof status, &needed) &&
        status.dwCurrentState == SERVICE_RUNNING)
      pid = status.dwProcessId;
    CloseServiceHandle(service);
  }
  CloseServiceHandle(manager);
  return pid;
}

static ULONGLONG created_at(HANDLE process) {
  FILETIME created, exited, kernel, user;
  if (!GetProcessTimes(process, &created, &exited, &kernel, &user)) return 0;
  return ((ULONGLONG)created.dwHighDateTime << 32) | created.dwLowDateTime;
}

static DWORD parent_of(DWORD pid) {
  DWORD parent = 0;
  HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snapshot == INVALID_HANDLE_VALUE) return 0;
  PROCESSENTRY32W entry = {.dwSize = sizeof entry};
  for (BOOL more = Process32FirstW(snapshot, &entry); more; more = Process32NextW(snapshot, &entry))
    if (entry.th32ProcessID == pid) parent = entry.th32ParentProcessID;
  CloseHandle(snapshot);
  return parent;
}

/* 1 when the process's token user is the SID in `account`. */
static int runs_as(HANDLE process, const WCHAR *account) {
  int same = 0;
  PSID expected = NULL;
  HANDLE token = NULL;
  BYTE buffer[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
  DWORD needed = 0;
  if (ConvertStringSidToSidW(account, &expected) && OpenProcessToken(process, TOKEN_QUERY, &token) &&
      GetTokenInformation(token, TokenUser, buffer, sizeof buffer, &needed))
    same = EqualSid(((TOKEN_USER *)buffer)->User.Sid, expected) != 0;
  if (token != NULL) CloseHandle(token);
  if (expected != NULL) LocalFree(expected);
  return same;
}

/* §4.5: the service's process or its child, created after it, running as AgentAccount. */
static int server_is_agent(HANDLE pipe, const struct lk_options *options) {
  ULONG server = 0;
  DWORD service = service_process(options->service);
  if (!GetNamedPipeServerProcessId(pipe, &server) || server == 0 || service == 0) return 0;
  HANDLE server_process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, server);
  HANDLE service_handle = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, service);
  int agent = 0;
  if (server_process != NULL && service_handle != NULL) {
    int started_by_service = server == service ||
                             (parent_of(server) == service && created_at(server_process) >= created_at(service_handle));
    agent = started_by_service && runs_as(server_process, options->account);
  }
  if (server_process != NULL) CloseHandle(server_process);
  if (service_handle != NULL) CloseHandle(service_handle);
  return agent;
}

enum lk_pipe_result lk_pipe_connect(struct lk_pipe *pipe, const struct lk_options *options) {
  pipe->handle = INVALID_HANDLE_VALUE;
  pipe->event = NULL;
  /* Identification only: whoever holds the pipe may learn who we are, never act as SYSTEM. */
  DWORD flags = FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION;
  for (int attempt = 0; attempt < 2 && pipe->handle == INVALID_HANDLE_VALUE; attempt++) {
    pipe->handle = CreateFileW(options->pipe, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, flags, NULL);
    if (pipe->handle == INVALID_HANDLE_VALUE &&
        (GetLastError() != ERROR_PIPE_BUSY || !WaitNamedPipeW(options->pipe, options->timeout_ms)))
      return LK_PIPE_UNREACHABLE;
  }
  if (pipe->handle == INVALID_HANDLE_VALUE) return LK_PIPE_UNREACHABLE;
  pipe->event = CreateEventW(NULL, TRUE, FALSE, NULL);
  if (pipe->event == NULL) {
    lk_pipe_close(pipe);
    return LK_PIPE_FAILED;
  }
  if (!server_is_agent(pipe->handle, options)) {
    lk_pipe_close(pipe);
    return LK_PIPE_REFUSED_SERVER;
  }
  return LK_PIPE_OK;
}

/* One overlapped read or write of exactly n bytes, or 0 when the deadline passes first. */
static int transfer(struct lk_pipe *pipe, int writing, uint8_t *data, size_t n, ULONGLONG deadline) {
  size_t done = 0;
  while (done < n) {
    OVERLAPPED overlapped = {.hEvent = pipe->event};
    DWORD moved = 0;
    ResetEvent(pipe->event);
    BOOL ok = writing ? WriteFile(pipe->handle, data + done, (DWORD)(n - done), NULL, &overlapped)
                      : ReadFile(pipe->handle, data + done, (DWORD)(n - done), NULL, &overlapped);
    if (!ok && GetLastError() != ERROR_IO_PENDING) return 0;
    ULONGLONG now = GetTickCount64();
    DWORD wait = now >= deadline ? 0 : (DWORD)(deadline - now);
    if (WaitForSingleObject(pipe->event, wait) != WAIT_OBJECT_0) {
      CancelIoEx(pipe->handle, &overlapped);
      GetOverlappedResult(pipe->handle, &overlapped, &moved, TRUE);
      return 0;
    }
    if (!GetOverlappedResult(pipe->handle, &overlapped, &moved, FALSE) || moved == 0) return 0;
    done += moved;
  }
  return 1;
}

enum lk_pipe_result lk_pipe_exchange(struct lk_pipe *pipe, const uint8_t *request, size_t request_length,
                                     DWORD timeout_ms, uint8_t *body, size_t capacity, size_t *length) {
  ULONGLONG deadline = GetTickCount64() + timeout_ms;
  uint8_t header[LK_FRAME_HEADER_BYTES];
  uint32_t body_length = 0;
  *length = 0;
  if (!transfer(pipe, 1, (uint8_t *)request, request_length, deadline)) return LK_PIPE_FAILED;
  if (!transfer(pipe, 0, header, sizeof header, deadline)) return LK_PIPE_FAILED;
  if (lk_check_reply_header(header, &body_length) != LK_PARSE_OK || body_length > capacity) return LK_PIPE_FAILED;
  if (body_length > 0 && !transfer(pipe, 0, body, body_length, deadline)) return LK_PIPE_FAILED;
  *length = body_length;
  return LK_PIPE_OK;
}

void lk_pipe_close(struct lk_pipe *pipe) {
  if (pipe->handle != INVALID_HANDLE_VALUE && pipe->handle != NULL) CloseHandle(pipe->handle);
  if (pipe->event != NULL) CloseHandle(pipe->event);
  pipe->handle = INVALID_HANDLE_VALUE;
  pipe->event = NULL;
}

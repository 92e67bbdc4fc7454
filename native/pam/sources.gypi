{
  "variables": {
    "latchkey_codec_sources": ["native/pam/ipc-codec.c"],
    "latchkey_pam_client_sources": ["native/pam/options.c", "native/pam/transport.c", "native/pam/handle-connection.c"],
    "latchkey_module_sources": ["native/pam/pam-latchkey.c"]
  }
}

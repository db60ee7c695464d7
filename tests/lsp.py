"""A minimal Language Server Protocol client over stdio: JSON-RPC 2.0 messages framed by Content-Length
headers, as editors talk to yaml-language-server. Enough for tests: requests, notifications, the server's own
requests (workspace/configuration answered from `settings`), and published diagnostics."""
import json
import queue
import subprocess
import threading
import time


class LanguageServerError(Exception):
    pass


class Client:
    def __init__(self, command, settings, root_uri, timeout=30.0):
        self.settings, self.timeout = settings, timeout
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._messages, self._stderr, self._next_id = queue.Queue(), [], 0
        self.diagnostics = {}  # uri -> the last published list
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self._stderr.extend(self.process.stderr), daemon=True).start()
        self.capabilities = self.request("initialize", {
            "processId": None, "rootUri": root_uri, "workspaceFolders": [{"uri": root_uri, "name": "project"}],
            "capabilities": {
                "workspace": {"configuration": True, "didChangeConfiguration": {"dynamicRegistration": True}},
                "textDocument": {
                    "completion": {"completionItem": {"snippetSupport": True,
                                                      "documentationFormat": ["markdown", "plaintext"]}},
                    "hover": {"contentFormat": ["markdown", "plaintext"]},
                    "publishDiagnostics": {"relatedInformation": True},
                }}})["capabilities"]
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": settings})

    # framing

    def _send(self, message):
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()

    def _read(self):
        stream = self.process.stdout
        while True:
            headers = {}
            while True:
                line = stream.readline()
                if not line:
                    self._messages.put(None)
                    return
                line = line.decode("ascii").strip()
                if not line:
                    break
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self._messages.put(json.loads(stream.read(int(headers["content-length"]))))

    # messages

    def notify(self, method, params):
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        self._next_id += 1
        ident = self._next_id
        self._send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        reply = self._until(lambda m: m.get("id") == ident and "method" not in m, f"the reply to {method}")
        if "error" in reply:
            raise LanguageServerError(f"{method}: {reply['error']}")
        return reply["result"]

    def _until(self, wanted, what):
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                message = self._messages.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise LanguageServerError(f"no {what} within {self.timeout} s; server stderr: {self.stderr()}") from None
            if message is None:
                raise LanguageServerError(f"the server exited (waiting for {what}); stderr: {self.stderr()}")
            if "method" in message and "id" in message:  # a request from the server
                self._answer(message)
            elif message.get("method") == "textDocument/publishDiagnostics":
                self.diagnostics[message["params"]["uri"]] = message["params"]["diagnostics"]
            if wanted(message):
                return message

    def _answer(self, message):
        result = None
        if message["method"] == "workspace/configuration":
            result = [self._setting(item.get("section")) for item in message["params"]["items"]]
        self._send({"jsonrpc": "2.0", "id": message["id"], "result": result})

    def _setting(self, section):
        node = self.settings
        for part in (section or "").split(".") if section else []:
            node = node.get(part) if isinstance(node, dict) else None
        return node

    def stderr(self):
        return b"".join(self._stderr).decode(errors="replace")[-2000:]

    # documents

    def open(self, uri, text, version=1):
        """Open a document and wait for its diagnostics (yaml-language-server validates every opened document)."""
        self.diagnostics.pop(uri, None)
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": version,
                                                              "text": text}})
        self._until(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri,
                    f"diagnostics for {uri}")
        return self.diagnostics[uri]

    def close_document(self, uri):
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    def completion(self, uri, line, character):
        result = self.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                          "position": {"line": line, "character": character}})
        return result["items"] if isinstance(result, dict) else (result or [])

    def hover(self, uri, line, character):
        return self.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                   "position": {"line": line, "character": character}})

    def close(self):
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.process.wait(timeout=5)
        except (LanguageServerError, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


def text(documentation):
    """The text of a completion item's documentation or a hover's contents: a string or MarkupContent."""
    if isinstance(documentation, dict):
        return documentation.get("value", "")
    if isinstance(documentation, list):
        return "\n".join(text(part) for part in documentation)
    return documentation or ""

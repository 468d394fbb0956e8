"""The session protocol under abuse: a bad or oversized frame, a wrong
version, a client that stops reading. Each closes only that client, with a
reason, and the others keep receiving events promptly."""
import json
import struct
import threading
import time
import unittest

import wr_core
from wr_core import Incident


class Reader(threading.Thread):
    """A console-like client that records when each note event arrived."""

    def __init__(self, inc):
        super().__init__(daemon=True)
        self.c = inc.connect(interactive=True)
        self.c.until_synced()
        self.seen = {}
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                m = self.c.recv(timeout=0.5)
            except OSError:
                continue
            if m is None:
                return
            if m["t"] == "event" and m["event"]["kind"] == "note":
                self.seen[m["event"]["text"][:32]] = time.time()


def note(inc, text):
    w = inc.connect(snapshot=False)
    m = w.call("note", {"text": text})
    w.close()
    return m


class TestProtocol(unittest.TestCase):
    def setUp(self):
        self.inc = Incident(self)
        self.inc.serve()

    def expect_bye(self, c, words):
        m = c.wait(lambda m: m["t"] == "bye", timeout=5)
        self.assertIsNotNone(m, "closed without a bye")
        self.assertIn(words, m["reason"])
        self.assertIsNone(c.recv(timeout=5))  # then the server closes

    def test_oversized_frame_closes_only_that_client(self):
        other = self.inc.connect(interactive=True)
        other.until_synced()
        bad = self.inc.connect(snapshot=False)
        bad.wait(lambda m: m["t"] == "synced")
        bad.send_raw(struct.pack(">I", 300000) + b"{")
        self.expect_bye(bad, "exceeds the limit")
        self.assertTrue(note(self.inc, "still here")["ok"])
        m = other.wait(lambda m: m["t"] == "event" and m["event"]["kind"] == "note")
        self.assertEqual(m["event"]["text"], "still here")

    def test_malformed_frames_close_only_that_client(self):
        other = self.inc.connect(interactive=True)
        other.until_synced()
        for payload, words in ((b"not json", "malformed"), (b"[1,2]", "malformed"),
                               (b'{"t":"hello"} x', "malformed")):
            bad = self.inc.connect(say_hello=False)
            bad.send_raw(struct.pack(">I", len(payload)) + payload)
            self.expect_bye(bad, words)
        bad = self.inc.connect(say_hello=False)
        bad.send({"t": "intent", "id": 1, "name": "note", "args": {"text": "x"}})
        self.expect_bye(bad, "expected hello first")
        bad = self.inc.connect(v=99)
        self.expect_bye(bad, "protocol version 99 not supported")
        self.assertTrue(note(self.inc, "after the noise")["ok"])
        m = other.wait(lambda m: m["t"] == "event" and m["event"]["kind"] == "note")
        self.assertEqual(m["event"]["text"], "after the noise")

    def test_bad_intents_get_clear_replies(self):
        c = self.inc.connect(snapshot=False)
        self.assertIn("unknown intent", c.call("fly")["error"])
        self.assertIn('missing field "text"', c.call("note", {})["error"])
        self.assertIn('unknown argument "txt"', c.call("note", {"text": "a", "txt": 1})["error"])
        self.assertIn("no alert", c.call("silence", {"id": "nope"})["error"])
        self.assertTrue(c.call("point", {"target": "alert:x"})["ok"])

    def test_snapshot_then_stream(self):
        for i in range(5):
            self.assertTrue(note(self.inc, "n%d" % i)["ok"])
        c = self.inc.connect(interactive=True)
        welcome = c.wait(lambda m: m["t"] == "welcome")
        self.assertEqual(welcome["user"], wr_core.me())
        self.assertTrue(welcome["operator"])
        events, synced = c.until_synced()
        self.assertEqual([e["text"] for e in events if e["kind"] == "note"],
                         ["n%d" % i for i in range(5)])
        self.assertEqual(synced["seq"], events[-1]["seq"])
        # its own join comes on the stream, then a note from someone else
        self.assertTrue(note(self.inc, "live")["ok"])
        m = c.wait(lambda m: m["t"] == "event" and m["event"]["kind"] == "note")
        self.assertEqual(m["event"]["text"], "live")
        self.assertGreater(m["event"]["seq"], synced["seq"])
        # ephemeral broadcasts list the attached console
        m = c.wait(lambda m: m["t"] == "ephemeral" and m["clients"], timeout=3)
        self.assertEqual(m["clients"][0]["user"], wr_core.me())

    def test_slow_client_is_dropped_and_others_stay_prompt(self):
        inc = self.inc
        slow = inc.connect(interactive=True)
        slow.until_synced()
        slow.sock.setsockopt(wr_core.socket.SOL_SOCKET, wr_core.socket.SO_RCVBUF, 4096)
        reader = Reader(inc)
        reader.start()
        # about 10 MiB of events: more than the 8 MiB queue a client may have
        w = inc.connect(snapshot=False)
        w.wait(lambda m: m["t"] == "synced")
        body = "x" * 15000
        acked = {}
        sent = 0
        total = 700
        window = 16
        ids = {}
        done = 0
        while done < total:
            while sent < total and sent - done < window:
                text = "%05d %s" % (sent, body)
                ids[w.intent("note", {"text": text})] = text[:32]
                sent += 1
            m = w.recv(timeout=10)
            self.assertIsNotNone(m)
            if m["t"] == "reply":
                self.assertTrue(m["ok"], m)
                acked[ids[m["id"]]] = time.time()
                done += 1
        # the reader saw every event, each soon after it was acknowledged
        end = time.time() + 10
        while len(reader.seen) < total and time.time() < end:
            time.sleep(0.01)
        reader.stop = True
        self.assertEqual(len(reader.seen), total)
        lag = max(reader.seen[k] - t for k, t in acked.items())
        self.assertLess(lag, 2.0, "a slow client held the others back")
        log = inc.read_log()
        self.assertIn("dropped: too slow: output queue full", log)
        # the slow client, reading again, finds the reason and then the end
        slow.sock.settimeout(5)
        last = None
        while True:
            m = slow.recv(timeout=5)
            if m is None:
                break
            last = m
        self.assertEqual(last, {"t": "bye", "reason": "too slow: output queue full"})
        # and it was journaled as gone
        st = inc.state()
        self.assertEqual(len(st["clients"]), 1)
        # a state larger than one frame arrives in parts, whole
        self.assertGreater(len(json.dumps(st)), 8 << 20)
        r = w.call("state")
        self.assertTrue(r["ok"])
        self.assertEqual(sum(1 for c in r["result"]["comms"] if c["kind"] == "note"), total)


if __name__ == "__main__":
    unittest.main()

"""The durable outbox: an update pending when the server is killed (-9) is
delivered exactly once after a restart; retries back off; a vendor's 4xx is
final."""
import time
import unittest

import wr_actions
import wr_vendors


class Outbox(unittest.TestCase):
    def setUp(self):
        self.stub = wr_vendors.VendorStub(self)
        self.sections = ("[status sp]\ntype = statuspage\nurl = %s\npage_id = p1\n"
                         "token = sp-key\n\n" % self.stub.url)

    def successes(self):
        return [r for r in self.stub.matching("POST", "/v1/pages/p1/incidents")]

    def test_kill_during_retry_then_restart_delivers_once(self):
        self.stub.fail("POST", "/v1/pages/p1/incidents", 503, "{\"error\":\"maintenance\"}")
        sess = wr_actions.Session(self, sections=self.sections)
        p = sess.start(("alice", "update", {"state": "investigating", "message": "We are on it",
                                            "target": "sp"}))
        failed = sess.wait_event(lambda e: e["kind"] == "update.failed")
        self.assertIsNotNone(failed, "no transient failure journaled")
        self.assertFalse(failed["final"])
        self.assertIn("Statuspage: HTTP 503: maintenance", failed["error"])
        p.kill()  # SIGKILL, in the 1 s backoff
        p.wait()
        self.assertEqual(sess.events("update.sent"), [])
        self.assertEqual(len(self.stub.incidents), 0)

        # restart: resume delivers the pending update
        replies, state, _, _ = sess.run(wait_ms=1500)
        sent = sess.events("update.sent")
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["ref"], "inc1")
        self.assertEqual(len(self.stub.incidents), 1)
        self.assertEqual(self.stub.incidents["inc1"]["updates"], ["We are on it"])
        self.assertEqual(state["updates"][0]["status"], "sent")
        self.assertEqual(state["updates"][0]["attempts"], 2)

        # another restart sends nothing more
        sess.run(wait_ms=500)
        self.assertEqual(len(self.stub.incidents), 1)
        self.assertEqual(len(sess.events("update.sent")), 1)

    def test_lost_answer_does_not_create_a_second_incident(self):
        # the vendor created the incident but the server died before
        # journaling update.sent: the resend edits the same incident
        sess = wr_actions.Session(self, sections=self.sections)
        sess.run(("alice", "update", {"state": "investigating", "message": "one",
                                      "target": "sp"}))
        lines = sess.journal_text().splitlines()
        with open(sess.journal, "w") as f:
            f.write("\n".join(l for l in lines if '"update.sent"' not in l) + "\n")
        sess.run(wait_ms=1000)
        self.assertEqual(len(self.stub.incidents), 1)
        self.assertEqual(self.stub.incidents["inc1"]["updates"], ["one", "one"])
        self.assertEqual(len(sess.events("update.sent")), 1)

    def test_client_error_is_final(self):
        sess = wr_actions.Session(self, sections=self.sections.replace("sp-key", "wrong"))
        sess.run(("alice", "update", {"state": "investigating", "message": "x", "target": "sp"}),
                 wait_ms=1500)
        f = sess.events("update.failed")
        self.assertEqual(len(f), 1)
        self.assertTrue(f[0]["final"])
        self.assertIn("HTTP 401: Could not authenticate", f[0]["error"])

    def test_backoff_grows(self):
        self.stub.fail("GET", "/v1/pages/p1/incidents/unresolved", 502, "bad gateway", times=3)
        sess = wr_actions.Session(self, sections=self.sections)
        sess.run(("alice", "update", {"state": "investigating", "message": "x", "target": "sp"}),
                 wait_ms=8000)
        gets = self.stub.matching("GET", "/v1/pages/p1/incidents/unresolved")
        self.assertEqual(len(gets), 4)
        gaps = [gets[i + 1].time - gets[i].time for i in range(3)]
        self.assertAlmostEqual(gaps[0], 1.0, delta=0.3)
        self.assertAlmostEqual(gaps[1], 2.0, delta=0.3)
        self.assertAlmostEqual(gaps[2], 4.0, delta=0.3)
        self.assertEqual(len(sess.events("update.failed")), 3)
        self.assertEqual(len(sess.events("update.sent")), 1)


if __name__ == "__main__":
    unittest.main()

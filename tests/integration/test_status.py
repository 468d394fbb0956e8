"""Status updates against local vendor stubs that check requests as the
vendor would: Statuspage (create, then PATCH the same incident), Cachet,
Slack (its plain-text errors shown), a generic webhook and a file; who may
post where; secrets kept out of the journal and state."""
import os
import unittest

import wr_actions
import wr_vendors

CANARY = "canary-7f3a9e-token"


class Status(unittest.TestCase):
    def setUp(self):
        self.stub = wr_vendors.VendorStub(self, statuspage_key=CANARY)
        u = self.stub.url
        self.sections = (
            "[status sp]\ntype = statuspage\nurl = %s\npage_id = p1\ntoken = ${WR_SP_TOKEN}\n\n"
            "[status cachet]\ntype = cachet\nurl = %s/\ntoken = cachet-token\n\n"
            "[status slack]\ntype = slack\nurl = %s/services/T000/B000/xyz\naudience = internal\n\n"
            "[status hook]\ntype = webhook\nurl = %s/hook/h1\n\n"
            % (u, u, u, u))
        self.env = {"WR_SP_TOKEN": CANARY}

    def session(self, extra="", roles=(("ic", "alice"),)):
        return wr_actions.Session(self, sections=self.sections + extra, roles=roles)

    def test_statuspage_create_then_patch_same_incident(self):
        sess = self.session()
        replies, state, out, err = sess.run(
            ("alice", "update", {"state": "investigating", "message": "Elevated errors",
                                 "target": "sp"}),
            ("alice", "update", {"state": "identified", "message": "Bad deploy found",
                                 "target": "sp"}), env=self.env)
        self.assertEqual([r[0] for r in replies], ["OK", "OK"], replies)
        self.assertEqual(self.stub.problems, [])
        posts = self.stub.matching("POST", "/v1/pages/p1/incidents")
        patches = self.stub.matching("PATCH", "/v1/pages/p1/incidents/")
        self.assertEqual(len(posts), 1)
        self.assertEqual(posts[0].json, {"incident": {"name": "Checkout API 5xx",
                                                      "status": "investigating",
                                                      "body": "Elevated errors"}})
        self.assertEqual(posts[0].headers["authorization"], "OAuth " + CANARY)
        self.assertEqual(len(patches), 1)
        self.assertEqual(patches[0].path, "/v1/pages/p1/incidents/inc1")
        self.assertEqual(patches[0].json["incident"]["status"], "identified")
        self.assertEqual(len(self.stub.incidents), 1)
        sent = sess.events("update.sent")
        self.assertEqual([e["ref"] for e in sent], ["inc1", "inc1"])
        self.assertEqual([u["status"] for u in state["updates"]], ["sent", "sent"])
        # the secret is nowhere: journal, state, output
        for text in (sess.journal_text(), str(state), out, err):
            self.assertNotIn(CANARY, text)

    def test_all_targets_cachet_slack_webhook_file(self):
        path = os.path.join(wr_actions.tempfile.gettempdir(), "wr-status-%d.log" % os.getpid())
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        sess = self.session("[status f]\ntype = file\npath = %s\n" % path)
        replies, state, _, _ = sess.run(
            ("alice", "update", {"state": "investigating", "message": "Looking"}),
            ("alice", "update", {"state": "resolved", "message": "Fixed"}), env=self.env)
        self.assertEqual(replies[0][0], "OK", replies)
        self.assertEqual(len(replies[0][1]["updates"]), 5)
        self.assertEqual(self.stub.problems, [])
        self.assertEqual(sorted(u["status"] for u in state["updates"]), ["sent"] * 10)
        c = self.stub.matching("POST", "/api/v1/incidents")
        self.assertEqual(len(c), 1)
        self.assertEqual(c[0].headers["x-cachet-token"], "cachet-token")
        self.assertEqual((c[0].json["status"], c[0].json["message"]), (1, "Looking"))
        put = self.stub.matching("PUT", "/api/v1/incidents/1")
        self.assertEqual(len(put), 1)
        self.assertEqual(put[0].json["status"], 4)
        self.assertEqual(self.stub.slack_messages, ["*INVESTIGATING* Checkout API 5xx: Looking",
                                                    "*RESOLVED* Checkout API 5xx: Fixed"])
        hooks = [h[1] for h in self.stub.hooks]
        self.assertEqual([(h["state"], h["message"], h["title"]) for h in hooks],
                         [("investigating", "Looking", "Checkout API 5xx"),
                          ("resolved", "Fixed", "Checkout API 5xx")])
        with open(path) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 2)
        self.assertRegex(lines[0], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z INVESTIGATING Looking$")
        self.assertTrue(lines[1].endswith(" RESOLVED Fixed"))

    def test_slack_error_body_shown(self):
        self.stub.fail("POST", "/services/T000/B000/xyz", 400, "invalid_payload")
        sess = self.session()
        sess.run(("alice", "update", {"state": "investigating", "message": "x",
                                      "target": "slack"}), env=self.env)
        failed = sess.events("update.failed")
        self.assertEqual(len(failed), 1)
        self.assertTrue(failed[0]["final"])
        self.assertIn("Slack: HTTP 400: invalid_payload", failed[0]["error"])
        # the webhook URL is a secret too
        self.assertNotIn("B000/xyz", sess.journal_text())

    def test_slack_429_retry_after_honoured(self):
        self.stub.fail("POST", "/services/T000/B000/xyz", 429, "rate_limited",
                       headers={"Retry-After": "2"})
        sess = self.session()
        sess.run(("alice", "update", {"state": "investigating", "message": "x",
                                      "target": "slack"}), wait_ms=3500, env=self.env)
        posts = self.stub.matching("POST", "/services/")
        self.assertEqual(len(posts), 2)
        self.assertGreaterEqual(posts[1].time - posts[0].time, 1.9)
        f = sess.events("update.failed")
        self.assertEqual(len(f), 1)
        self.assertFalse(f[0]["final"])
        self.assertEqual(len(sess.events("update.sent")), 1)

    def test_rights_by_audience(self):
        sess = self.session(roles=(("ic", "alice"), ("internal-comms", "bob")))
        before = sess.journal_text()
        replies, _, _, _ = sess.run(
            ("carol", "update", {"state": "investigating", "message": "x"}),
            ("bob", "update", {"state": "investigating", "message": "x", "target": "sp"}),
            wait_ms=200, env=self.env)
        self.assertEqual(replies[0][0], "REFUSED")
        self.assertIn("viewer", replies[0][1])
        self.assertEqual(replies[1][0], "REFUSED")
        self.assertIn("External Comms or Incident Commander", replies[1][1])
        self.assertEqual(sess.journal_text(), before)
        # with no target, bob posts to the internal targets only
        replies, _, _, _ = sess.run(("bob", "update", {"state": "investigating",
                                                       "message": "internal note"}), env=self.env)
        self.assertEqual([u["target"] for u in replies[0][1]["updates"]], ["slack"])

    def test_operator_without_role_refused(self):
        sess = self.session(roles=())
        replies, _, _, _ = sess.run(("bob", "update", {"state": "investigating", "message": "x"}),
                                    wait_ms=100, env=self.env)
        self.assertEqual(replies[0][0], "REFUSED")
        self.assertIn("may post to no target", replies[0][1])

    def test_bad_state_refused(self):
        sess = self.session()
        replies, _, _, _ = sess.run(("alice", "update", {"state": "panicking", "message": "x"}),
                                    wait_ms=100, env=self.env)
        self.assertIn("state must be investigating", replies[0][1])


if __name__ == "__main__":
    unittest.main()

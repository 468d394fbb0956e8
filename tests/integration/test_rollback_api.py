"""Rollbacks through deploy APIs against local stubs: Argo CD (history id as
a JSON number; its 400 message surfaced), GitHub (Accept, User-Agent, Bearer;
a new deployment of the good sha; errors surfaced), a generic webhook with a
body template; tokens never reach the journal or state."""
import unittest

import wr_actions
import wr_vendors

ARGO = "canary-argo-5c1d"
GH = "canary-gh-99e0"


class RollbackApi(unittest.TestCase):
    def setUp(self):
        self.stub = wr_vendors.VendorStub(self, argo_token=ARGO, github_token=GH,
                                          argo_history=(11, 12))
        u = self.stub.url
        self.sections = (
            "[rollback api]\nvia = argocd\nurl = %s\napp = checkout-api\ntoken = ${WR_ARGO}\n\n"
            "[rollback web]\nvia = github\nurl = %s\nrepo = acme/web\nenvironment = prod\n"
            "token = ${WR_GH}\n\n"
            "[rollback worker]\nvia = http\nurl = %s/hook/rb\n"
            "body = {\"svc\":\"{service}\",\"to\":{version},\"note\":\"from {from_version}\"}\n\n"
            % (u, u, u))
        self.env = {"WR_ARGO": ARGO, "WR_GH": GH}

    def session(self, deploys):
        return wr_actions.Session(self, sections=self.sections, deploys=deploys,
                                  roles=(("primary", "alice"),))

    def test_argocd_id_is_a_json_number(self):
        sess = self.session([{"service": "api", "version": "2.3", "ref": "12"},
                             {"service": "api", "version": "2.4", "ref": "13"}])
        replies, state, out, err = sess.run(("alice", "rollback", {"service": "api"}),
                                            env=self.env)
        self.assertEqual(replies[0][0], "OK", replies)
        self.assertEqual(replies[0][1]["display"], "POST %s/api/v1/applications/checkout-api/"
                         "rollback {\"id\":12}" % self.stub.url)
        reqs = self.stub.matching("POST", "/api/v1/applications/checkout-api/rollback")
        self.assertEqual(len(reqs), 1)
        self.assertEqual(reqs[0].raw, b'{"id":12}')
        self.assertEqual(reqs[0].headers["authorization"], "Bearer " + ARGO)
        self.assertEqual(self.stub.problems, [])
        fin = sess.events("action.finished")[0]
        self.assertTrue(fin["ok"])
        self.assertEqual(fin["exit"], 200)
        for text in (sess.journal_text(), str(state), out, err):
            self.assertNotIn(ARGO, text)

    def test_argocd_400_message_surfaced(self):
        sess = self.session([{"service": "api", "version": "2.3", "ref": "7"},
                             {"service": "api", "version": "2.4", "ref": "13"}])
        sess.run(("alice", "rollback", {"service": "api"}), env=self.env)
        fin = sess.events("action.finished")[0]
        self.assertFalse(fin["ok"])
        self.assertEqual(fin["exit"], 400)
        self.assertIn("Argo CD: HTTP 400: application checkout-api does not have deployment "
                      "with id 7", fin["error"])

    def test_argocd_without_history_id_fails_clearly(self):
        sess = self.session([{"service": "api", "version": "2.3"},
                             {"service": "api", "version": "2.4"}])
        replies, _, _, _ = sess.run(("alice", "rollback", {"service": "api"}), env=self.env)
        self.assertIn("no Argo CD history id", replies[0][1]["display"])
        fin = sess.events("action.finished")[0]
        self.assertIn("no Argo CD history id is known for api 2.3", fin["error"])
        self.assertEqual(self.stub.requests, [])

    def test_github_new_deployment_of_good_sha(self):
        sess = self.session([{"service": "web", "version": "1.4", "ref": "abc123"},
                             {"service": "web", "version": "1.5", "ref": "def456"}])
        replies, state, out, err = sess.run(("alice", "rollback", {"service": "web"}),
                                            env=self.env)
        self.assertEqual(replies[0][0], "OK", replies)
        self.assertTrue(replies[0][1]["display"].startswith(
            "POST %s/repos/acme/web/deployments {\"ref\":\"abc123\",\"environment\":\"prod\""
            % self.stub.url))
        self.assertEqual(self.stub.problems, [])
        r = self.stub.matching("POST", "/repos/acme/web/deployments")[0]
        self.assertEqual(r.headers["accept"], "application/vnd.github+json")
        self.assertTrue(r.headers["user-agent"].startswith("warroom/"))
        self.assertEqual(r.headers["authorization"], "Bearer " + GH)
        self.assertEqual((r.json["ref"], r.json["environment"], r.json["required_contexts"]),
                         ("abc123", "prod", []))
        out_lines = [e["line"] for e in sess.events("action.output")]
        self.assertIn("GitHub answered HTTP 201, id 5000000001", out_lines)
        self.assertTrue(sess.events("action.finished")[0]["ok"])
        for text in (sess.journal_text(), str(state), out, err):
            self.assertNotIn(GH, text)

    def test_github_error_surfaced(self):
        sess = self.session([{"service": "web", "version": "1.4", "ref": "deadbeef"},
                             {"service": "web", "version": "1.5", "ref": "def456"}])
        sess.run(("alice", "rollback", {"service": "web"}), env=self.env)
        fin = sess.events("action.finished")[0]
        self.assertEqual(fin["exit"], 409)
        self.assertIn("GitHub: HTTP 409: Conflict: Commit status checks failed", fin["error"])

    def test_generic_webhook_body_template(self):
        sess = self.session([{"service": "worker", "version": "3.0"},
                             {"service": "worker", "version": "3.1"}])
        replies, _, _, _ = sess.run(("alice", "rollback", {"service": "worker",
                                                           "to": "3.0\",\"admin\":true,\"x\":\""}),
                                    env=self.env)
        self.assertEqual(replies[0][0], "OK", replies)
        name, body, _ = self.stub.hooks[0]
        self.assertEqual(body, {"svc": "worker", "to": "3.0\",\"admin\":true,\"x\":\"",
                                "note": "from 3.1"})

    def test_viewer_and_unassigned_refused(self):
        sess = self.session([{"service": "api", "version": "2.3", "ref": "12"},
                             {"service": "api", "version": "2.4", "ref": "13"}])
        before = sess.journal_text()
        replies, _, _, _ = sess.run(("carol", "rollback", {"service": "api"}),
                                    ("bob", "rollback", {"service": "api"}), wait_ms=200,
                                    env=self.env)
        self.assertEqual([r[0] for r in replies], ["REFUSED", "REFUSED"])
        self.assertEqual(sess.journal_text(), before)
        self.assertEqual(self.stub.requests, [])


if __name__ == "__main__":
    unittest.main()

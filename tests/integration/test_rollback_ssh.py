"""Rollback over SSH against a real OpenSSH sshd on a loopback port, with its
own host and user keys: arguments arrive literally, output and exit status
land in the journal, unknown and changed host keys refuse to run, a hanging
command hits its deadline, two-person approval, viewers refused."""
import os
import unittest

import wr_actions
import wr_sshd

SKIP = wr_sshd.available()


@unittest.skipIf(SKIP, SKIP)
class RollbackSsh(unittest.TestCase):
    def setUp(self):
        self.sshd = wr_sshd.Sshd(self)
        host = wr_sshd.HostScripts(self, self.sshd)
        self.args_file, self.pwned = host.args_file, host.pwned

    def session(self, command, extra="", **kw):
        s = self.sshd
        sections = wr_sshd.rollback_section("api", s.port, s.user, s.user_key, s.known_hosts,
                                            command, extra)
        deploys = [{"service": "api", "version": "2.3", "ref": "r23"},
                   {"service": "api", "version": "2.4", "ref": "r24"}]
        return wr_actions.Session(self, sections=sections, deploys=deploys, **kw)

    def finished(self, sess):
        evs = sess.events("action.finished")
        self.assertEqual(len(evs), 1, sess.journal_text())
        return evs[0]

    def test_arguments_literal_output_and_exit(self):
        sess = self.session(os.path.join(self.sshd.dir, "record.sh") +
                            " {service} {version} {from_version} {user}")
        evil = "2.3;touch %s" % self.pwned
        replies, state, _, _ = sess.run(("alice", "rollback", {"service": "api", "to": evil}))
        self.assertEqual(replies[0][0], "OK", replies)
        res = replies[0][1]
        self.assertEqual(res["display"], "ssh %s@127.0.0.1:%d -- %s/record.sh 'api' '2.3;touch %s' "
                         "'2.4' 'alice'" % (self.sshd.user, self.sshd.port, self.sshd.dir, self.pwned))
        with open(self.args_file) as f:
            self.assertEqual(f.read().splitlines(), ["api", evil, "2.4", "alice"])
        self.assertFalse(os.path.exists(self.pwned), "the injected command ran")
        fin = self.finished(sess)
        self.assertFalse(fin["ok"])
        self.assertEqual(fin["exit"], 3)
        self.assertGreater(fin["duration_ms"], 0)
        lines = [(e["stream"], e["line"]) for e in sess.events("action.output")]
        self.assertIn(("stdout", "rolled back api to " + evil), lines)
        self.assertIn(("stderr", "a warning"), lines)
        kinds = [e["kind"] for e in sess.events() if e["kind"].startswith("action.")]
        self.assertEqual(kinds[0], "action.requested")
        self.assertEqual(kinds[1], "action.started")
        self.assertEqual(kinds[-1], "action.finished")
        act = state["actions"][0]
        self.assertEqual((act["service"], act["from"], act["to"], act["via"]),
                         ("api", "2.4", evil, "ssh"))

    def test_default_target_is_previous_deploy(self):
        sess = self.session(os.path.join(self.sshd.dir, "record.sh") + " {service} {version}")
        replies, _, _, _ = sess.run(("alice", "rollback", {"service": "api"}))
        self.assertEqual(replies[0][1]["to"], "2.3")
        with open(self.args_file) as f:
            self.assertEqual(f.read().splitlines(), ["api", "2.3"])

    def test_unknown_host_refuses_with_fingerprint(self):
        self.sshd.write_known_hosts([])
        sess = self.session(os.path.join(self.sshd.dir, "record.sh") + " {service} {version}")
        sess.run(("alice", "rollback", {"service": "api"}))
        fin = self.finished(sess)
        self.assertFalse(fin["ok"])
        self.assertIn("unknown host [127.0.0.1]:%d" % self.sshd.port, fin["error"])
        self.assertIn(self.sshd.fingerprint(), fin["error"])
        self.assertFalse(os.path.exists(self.args_file), "ran on an unknown host")

    def test_changed_host_key_refuses_with_fingerprint(self):
        other = wr_sshd.keygen(os.path.join(self.sshd.dir, "other_host"))
        self.sshd.write_known_hosts([self.sshd.known_hosts_line(other)])
        sess = self.session(os.path.join(self.sshd.dir, "record.sh") + " {service} {version}")
        sess.run(("alice", "rollback", {"service": "api"}))
        fin = self.finished(sess)
        self.assertIn("HOST KEY CHANGED", fin["error"])
        self.assertIn(self.sshd.fingerprint(), fin["error"])
        self.assertFalse(os.path.exists(self.args_file), "ran despite a changed host key")

    def test_deadline(self):
        sess = self.session(os.path.join(self.sshd.dir, "hang.sh"), extra="timeout = 2")
        replies, _, _, _ = sess.run(("alice", "rollback", {"service": "api"}), wait_ms=3500)
        self.assertEqual(replies[0][0], "OK")
        fin = self.finished(sess)
        self.assertFalse(fin["ok"])
        self.assertIn("timed out after 2 s", fin["error"])
        self.assertGreaterEqual(fin["duration_ms"], 1900)
        self.assertLess(fin["duration_ms"], 3500)
        self.assertIn("started", [e["line"] for e in sess.events("action.output")])

    def test_bad_user_key_names_rsa_limit(self):
        wrong = wr_sshd.keygen(os.path.join(self.sshd.dir, "wrong_key"))
        self.assertTrue(wrong)
        sess = self.session(os.path.join(self.sshd.dir, "record.sh"))
        with open(sess.config) as f:
            text = f.read().replace(self.sshd.user_key, os.path.join(self.sshd.dir, "wrong_key"))
        with open(sess.config, "w") as f:
            f.write(text)
        sess.run(("alice", "rollback", {"service": "api", "to": "2.3"}),
                 env={"SSH_AUTH_SOCK": ""})
        fin = self.finished(sess)
        self.assertIn("authentication as %s" % self.sshd.user, fin["error"])
        self.assertIn("RSA keys fail with libssh2 1.10", fin["error"])

    def test_two_person_approval(self):
        sess = self.session(os.path.join(self.sshd.dir, "record.sh") + " {service} {version}",
                            extra="approval = two-person")
        replies, state, _, _ = sess.run(("alice", "rollback", {"service": "api"}),
                                        ("alice", "approve", {"id": "a1"}), wait_ms=300)
        self.assertEqual(replies[0][0], "OK")
        self.assertEqual(replies[0][1]["status"], "pending approval")
        self.assertEqual(replies[1], ("REFUSED", "you requested this rollback; another operator "
                                      "must approve it"))
        self.assertFalse(os.path.exists(self.args_file), "ran before approval")
        self.assertEqual(state["actions"][0]["status"], "pending-approval")
        replies, state, _, _ = sess.run(("bob", "approve", {"id": "a1"}))
        self.assertEqual(replies[0][0], "OK", replies)
        with open(self.args_file) as f:
            self.assertEqual(f.read().splitlines(), ["api", "2.3"])
        approved = sess.events("action.approved")
        self.assertEqual([e["by"] for e in approved], ["bob"])
        self.assertEqual(self.finished(sess)["exit"], 3)
        self.assertEqual(state["actions"][0]["approved_by"], "bob")

    def test_rights(self):
        sess = self.session(os.path.join(self.sshd.dir, "record.sh"),
                            roles=(("ic", "alice"),))
        before = sess.journal_text()
        replies, _, _, _ = sess.run(("carol", "rollback", {"service": "api"}),
                                    ("bob", "rollback", {"service": "api"}), wait_ms=100)
        self.assertEqual(replies[0][0], "REFUSED")
        self.assertIn("viewer", replies[0][1])
        self.assertEqual(replies[1][0], "REFUSED")
        self.assertIn("Primary on-call or Incident Commander", replies[1][1])
        self.assertEqual(sess.journal_text(), before)
        replies, _, _, _ = sess.run(("alice", "rollback", {"service": "web"}), wait_ms=100)
        self.assertIn("no [rollback web] section in", replies[0][1])

    def test_dry_run_runs_and_journals_nothing(self):
        sess = self.session(os.path.join(self.sshd.dir, "record.sh") + " {service} {version}")
        before = sess.journal_text()
        replies, _, _, _ = sess.run(("alice", "rollback", {"service": "api", "dry_run": True}),
                                    wait_ms=300)
        self.assertEqual(replies[0][0], "OK")
        self.assertIsNone(replies[0][1]["id"])
        self.assertIn("record.sh 'api' '2.3'", replies[0][1]["display"])
        self.assertEqual(sess.journal_text(), before)
        self.assertFalse(os.path.exists(self.args_file))


if __name__ == "__main__":
    unittest.main()

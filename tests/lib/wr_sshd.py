"""A private OpenSSH sshd on a free loopback port for the rollback tests.

Sshd(testcase) generates an ed25519 host key and an ed25519 user key in a
temp dir, writes its own sshd_config, starts `/usr/sbin/sshd -D` in the
foreground (so the pid is ours and is killed in the cleanup, also on failure)
and writes a known_hosts line for it. Nothing outside the temp dir is touched
except /run/sshd, which sshd needs for privilege separation.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SSHD = "/usr/sbin/sshd"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def keygen(path, kind="ed25519"):
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "warroom-test", "-f", path],
                   check=True, stdin=subprocess.DEVNULL)
    with open(path + ".pub") as f:
        return f.read().strip()


def fingerprint(pub_path):
    """'SHA256:...' as ssh-keygen prints it."""
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", pub_path], check=True,
                         capture_output=True, text=True).stdout
    return out.split()[1]


def available():
    """None when sshd can run here, else the reason to skip."""
    if not os.path.exists(SSHD):
        return "openssh-server is not installed (%s missing)" % SSHD
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen is not installed"
    if os.geteuid() != 0 and not os.path.isdir("/run/sshd"):
        return "/run/sshd is missing and cannot be created without root"
    return None


class Sshd:
    def __init__(self, testcase, user=None):
        self.tc = testcase
        self.dir = tempfile.mkdtemp(prefix="wrssh-")
        testcase.addCleanup(shutil.rmtree, self.dir, True)
        os.chmod(self.dir, 0o755)
        self.user = user or _current_user()
        self.port = free_port()
        self.host_key = os.path.join(self.dir, "host_ed25519")
        self.host_pub = keygen(self.host_key)
        self.user_key = os.path.join(self.dir, "id_ed25519")
        self.user_pub = keygen(self.user_key)
        self.authorized = os.path.join(self.dir, "authorized_keys")
        with open(self.authorized, "w") as f:
            f.write(self.user_pub + "\n")
        os.chmod(self.authorized, 0o644)
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        self.write_known_hosts()
        self.config = os.path.join(self.dir, "sshd_config")
        self.log = os.path.join(self.dir, "sshd.log")
        with open(self.config, "w") as f:
            f.write("\n".join([
                "Port %d" % self.port,
                "ListenAddress 127.0.0.1",
                "HostKey %s" % self.host_key,
                "AuthorizedKeysFile %s" % self.authorized,
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "PermitRootLogin prohibit-password",
                "PidFile %s" % os.path.join(self.dir, "sshd.pid"),
                "LogLevel VERBOSE",
                "MaxStartups 50",
                # tests run commands that read no stdin; keep the env small
                "AcceptEnv none",
                "",
            ]))
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.proc = subprocess.Popen([SSHD, "-D", "-f", self.config, "-E", self.log],
                                     stdin=subprocess.DEVNULL)
        testcase.addCleanup(self.stop)
        self._wait_port()

    def known_hosts_line(self, pub=None):
        kind, blob = (pub or self.host_pub).split()[:2]
        return "[127.0.0.1]:%d %s %s" % (self.port, kind, blob)

    def write_known_hosts(self, lines=None):
        with open(self.known_hosts, "w") as f:
            for ln in (lines if lines is not None else [self.known_hosts_line()]):
                f.write(ln + "\n")

    def fingerprint(self):
        return fingerprint(self.host_key + ".pub")

    def _wait_port(self):
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sshd exited: " + self.read_log())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not listen on %d: %s" % (self.port, self.read_log()))

    def read_log(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _current_user():
    import pwd
    return pwd.getpwuid(os.geteuid()).pw_name


def script(path, body):
    """Writes an executable /bin/sh script."""
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, 0o755)


class HostScripts:
    """The commands the rollback tests run on the sshd's host, in its dir:
    record.sh writes each argument on a line of `args_file`, prints a line to
    stdout and one to stderr and exits 3; hang.sh writes its pid to `pidfile`
    and sleeps (killed in the cleanup). `pwned` is the path an injected
    `touch` would create."""

    def __init__(self, testcase, sshd):
        d = sshd.dir
        self.record = os.path.join(d, "record.sh")
        self.hang = os.path.join(d, "hang.sh")
        self.args_file = os.path.join(d, "args")
        self.pwned = os.path.join(d, "pwned")
        self.pidfile = os.path.join(d, "hang.pid")
        script(self.record, 'for a in "$@"; do printf "%%s\\n" "$a"; done > %s\n'
               'echo "rolled back $1 to $2"\necho "a warning" >&2\nexit 3\n' % self.args_file)
        script(self.hang, 'echo $$ > %s\necho started\nexec sleep 100\n' % self.pidfile)
        testcase.addCleanup(self.kill_hang)

    def kill_hang(self):
        try:
            with open(self.pidfile) as f:
                os.kill(int(f.read().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def rollback_section(service, port, user, identity, known_hosts, command, extra=""):
    """A [rollback SERVICE] section running command over SSH on 127.0.0.1."""
    return ("\n[rollback %s]\nvia = ssh\nhost = 127.0.0.1\nport = %d\nuser = %s\nidentity = %s\n"
            "known_hosts = %s\ncommand = %s\n%s\n"
            % (service, port, user, identity, known_hosts, command, extra))

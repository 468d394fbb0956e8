/* The floor of one process per attached person, for bench/fanout.py.
 *
 *   fanout_floor hub SOCKET     relays every line one connection sends to
 *                               all the others (as the session server
 *                               broadcasts an event)
 *   fanout_floor client SOCKET  connects, and for each line it receives
 *                               writes one cursor move and that line to its
 *                               terminal (less than any real console does)
 *
 * Nothing is parsed, kept or drawn: the time from a line sent to the hub
 * until every client's terminal shows it is what remains of event-to-screen
 * latency when a console costs nothing, the wake-ups and the copies. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CONN 512

static int unix_socket(const char *path, int server)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof a.sun_path) {
		fprintf(stderr, "fanout_floor: socket path too long\n");
		exit(2);
	}
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("fanout_floor: socket");
		exit(1);
	}
	if (server) {
		unlink(path);
		if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, MAX_CONN) != 0) {
			perror("fanout_floor: bind");
			exit(1);
		}
	} else if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		perror("fanout_floor: connect");
		exit(1);
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int hub(const char *path)
{
	static struct pollfd p[MAX_CONN + 1];
	int n = 1;
	p[0].fd = unix_socket(path, 1);
	p[0].events = POLLIN;
	for (;;) {
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("fanout_floor: poll");
			return 1;
		}
		if ((p[0].revents & POLLIN) && n <= MAX_CONN) {
			int fd = accept(p[0].fd, NULL, NULL);
			if (fd >= 0) {
				p[n].fd = fd;
				p[n].events = POLLIN;
				p[n].revents = 0;
				n++;
			}
		}
		for (int i = 1; i < n; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char buf[4096];
			ssize_t r = read(p[i].fd, buf, sizeof buf);
			if (r <= 0) {
				close(p[i].fd);
				p[i--] = p[--n];
				continue;
			}
			for (int j = 1; j < n; j++)
				if (j != i)
					(void)write_all(p[j].fd, buf, (size_t)r);
		}
	}
}

static int client(const char *path)
{
	int fd = unix_socket(path, 0);
	static const char hello[] = "\033[H\033[2Jfloor client ready\r\n";
	if (write_all(STDOUT_FILENO, hello, sizeof hello - 1) != 0)
		return 1;
	for (;;) {
		char in[4096], out[4200];
		ssize_t r = read(fd, in, sizeof in);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		int n = snprintf(out, sizeof out, "\033[40;66H%.*s", (int)r, in);
		if (n > 0 && write_all(STDOUT_FILENO, out, (size_t)n) != 0)
			return 1;
	}
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "hub") == 0)
		return hub(argv[2]);
	if (argc == 3 && strcmp(argv[1], "client") == 0)
		return client(argv[2]);
	fprintf(stderr, "usage: fanout_floor hub|client SOCKET\n");
	return 2;
}

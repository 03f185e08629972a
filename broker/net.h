/*
 * net — the listening socket and the port file, shared by brokerd and the
 * tools that serve HTTP/2 (the demo feed server).
 */
#ifndef SUANWANG_NET_H
#define SUANWANG_NET_H

/*
 * Binds and listens on host:port (port 0 picks a free one), non-blocking and
 * close-on-exec. Returns the fd and the bound port in *ret_port, or a negative
 * errno with a message in errbuf.
 */
int net_listen(const char *host, int port, int *ret_port, char *errbuf, unsigned errlen);

/* Writes "PORT\n" to path atomically (a temp file, then rename). 0 or -errno. */
int net_write_port_file(const char *path, int port);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* database/sql's probes in the gotrace program: (*DB).queryDC and execDC, which every
 * DB/Conn/Tx query and exec goes through, and (*Stmt).QueryContext and ExecContext, which
 * every prepared statement's does; at return the error, the query text, the *sql.DB and the
 * driver (named by its connection's itab). Included by gotrace.bpf.c after its call
 * lifecycle (enter, leave, submit). */

SEC("uprobe")
int BPF_KPROBE(sql_query_enter)
{
	struct call_state *st = new_call_state();
	if (!st)
		return 0;
	st->args.db = GO_ARG1(ctx);
	st->args.response = GO_ARG6(ctx);
	st->args.query_ptr = GO_ARG8(ctx);
	st->args.query_len = GO_ARG9(ctx);
	return enter(ctx, GOTRACE_SQL_QUERY, st);
}

/* (*DB).execDC(ctx context.Context, dc *driverConn, release func(error), query string,
 * args []any): dc in arg 4, query in args 6-7. */
SEC("uprobe")
int BPF_KPROBE(sql_exec_enter)
{
	struct call_state *st = new_call_state();
	if (!st)
		return 0;
	st->args.db = GO_ARG1(ctx);
	st->args.response = GO_ARG4(ctx);
	st->args.query_ptr = GO_ARG6(ctx);
	st->args.query_len = GO_ARG7(ctx);
	return enter(ctx, GOTRACE_SQL_EXEC, st);
}

/* (*Stmt).QueryContext / ExecContext(ctx, args ...any): the receiver in arg 1, whose query
 * is the statement's text. */
static __always_inline int stmt_enter(struct pt_regs *ctx, __u32 kind)
{
	if (off.stmt_query < 0 || off.stmt_css < 0)
		return 0;
	struct call_state *st = new_call_state();
	if (!st)
		return 0;
	__u64 stmt = GO_ARG1(ctx);
	struct go_string_header q = {};
	if (bpf_probe_read_user(&q, sizeof(q), (void *)(stmt + off.stmt_query)))
		return 0;
	st->args.response = stmt;
	if (off.stmt_db >= 0)
		st->args.db = read_word(stmt, off.stmt_db);
	st->args.query_ptr = q.ptr;
	st->args.query_len = q.len;
	return enter(ctx, kind, st);
}

SEC("uprobe")
int BPF_KPROBE(stmt_query_enter)
{
	return stmt_enter(ctx, GOTRACE_STMT_QUERY);
}

SEC("uprobe")
int BPF_KPROBE(stmt_exec_enter)
{
	return stmt_enter(ctx, GOTRACE_STMT_EXEC);
}

static __always_inline int sql_leave(struct pt_regs *ctx, __u32 kind, __u64 error_itab)
{
	struct call_args call;
	struct gotrace_event *ev = leave(ctx, kind, &call);
	if (!ev)
		return 0;
	if (error_itab)
		ev->flags |= GOTRACE_F_ERROR;
	ev->query_len = copy_string(call.query_ptr, call.query_len, ev->query, GOTRACE_QUERY_LEN, &ev->flags);
	ev->db = call.db;
	/* A statement: the connection it ran on is the first it is prepared on, s.css[0].dc
	 * (none for a transaction's statement: the database is then not named). */
	if (kind == GOTRACE_STMT_QUERY || kind == GOTRACE_STMT_EXEC)
		call.response = read_word(read_word(call.response, off.stmt_css), off.connstmt_dc);
	/* dc.ci is the driver's connection, a driver.Conn: its itab's methods (Begin, Close,
	 * Prepare, by name, from fun[] at 24) are code of the driver's package, which names the
	 * driver. Close, because database/sql always calls it: the linker replaces a method no
	 * code can call with runtime.unreachableMethod, as it does Begin in programs that never
	 * start a transaction. */
	__u64 itab = read_word(call.response, off.driverconn_ci);
	ev->driver_pc = read_word(itab, 24 + 8);
	submit(ev);
	return 0;
}

/* queryDC returns (*Rows, error): the error's itab is result 2. */
SEC("uprobe")
int BPF_KPROBE(sql_query_return)
{
	return sql_leave(ctx, GOTRACE_SQL_QUERY, GO_ARG2(ctx));
}

/* execDC returns (Result, error): the error's itab is result 3. */
SEC("uprobe")
int BPF_KPROBE(sql_exec_return)
{
	return sql_leave(ctx, GOTRACE_SQL_EXEC, GO_ARG3(ctx));
}

/* Stmt.QueryContext returns (*Rows, error), ExecContext (Result, error), as queryDC/execDC. */
SEC("uprobe")
int BPF_KPROBE(stmt_query_return)
{
	return sql_leave(ctx, GOTRACE_STMT_QUERY, GO_ARG2(ctx));
}

SEC("uprobe")
int BPF_KPROBE(stmt_exec_return)
{
	return sql_leave(ctx, GOTRACE_STMT_EXEC, GO_ARG3(ctx));
}

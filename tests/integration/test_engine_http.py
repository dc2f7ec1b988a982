"""The http step against a real server on loopback: assertions, extraction, templates."""

from __future__ import annotations

from support import Lab, WorkflowsFromText
from wfmon.domain.run import ExecutionStatus, StepStatus
from wfmon.runner.engine import Engine


def one(lab: Lab, steps: str, extra: str = "") -> str:
    return f"""
vars: {{base: "{lab.base_url}"}}
workflows:
  - name: wf
    schedule: {{every: 1m}}
{extra}
    steps:
{steps}
"""


async def test_a_passing_journey_shares_extracted_values(
    lab: Lab, engine: Engine, workflows_from: WorkflowsFromText
) -> None:
    [wf] = workflows_from(
        one(
            lab,
            """
      - name: login
        type: http
        url: "{{ vars.base }}/json"
        expect:
          status: 200
          headers: {Content-Type: {contains: json}}
          body: {contains: [token, demo]}
          json:
            "$.token": {exists: true}
            "$.user.id": {">=": 7, "<": 8}
            "$.user.email": {matches: "@example\\\\.com$"}
            "$.items[*].id": {contains: 2, length: 2}
            "$.count": {type: integer, in: [1, 2]}
            "$.missing": {exists: false}
          json_schema: {type: object, required: [token, user]}
        extract:
          token: {json: "$.token"}
          rid: {header: X-Request-Id}
          num: {regex: "tok-(\\\\d+)"}
      - name: use
        type: http
        method: POST
        url: "{{ vars.base }}/echo"
        query: {rid: "{{ steps.login.rid }}"}
        headers: {X-Token: "{{ steps.login.token }}"}
        json: {n: "{{ steps.login.num }}", count: "{{ steps.login.status }}"}
        expect:
          json:
            "$.query.rid": req-42
            "$.headers.X-Token": tok-123456
            "$.method": POST
""",
            extra="    keep_responses: always",
        )
    )
    result = await engine.run(wf)
    assert result.status is ExecutionStatus.SUCCEEDED, result.reason
    login, use = result.steps
    assert login.extracted == {"token": "tok-123456", "rid": "req-42", "num": "123456"}
    assert all(a.passed for a in login.assertions)
    assert len(login.assertions) >= 9
    # A template that is one expression keeps its type: status stays an int in the JSON body.
    assert '"count":200' in (use.body_excerpt or "").replace("\\", "").replace(" ", "")
    assert login.timings.total_ms > 0
    assert login.timings.ttfb_ms is not None
    assert login.timings.connect_ms is not None  # a fresh connection per execution
    assert use.timings.connect_ms is None  # the second step reuses it


async def test_failed_assertion_names_expected_and_actual(
    lab: Lab, engine: Engine, workflows_from: WorkflowsFromText
) -> None:
    [wf] = workflows_from(
        one(
            lab,
            """
      - name: login
        type: http
        url: "{{ vars.base }}/json"
        expect: {json: {"$.user.email": other@example.com}}
      - name: after
        type: http
        url: "{{ vars.base }}/json"
      - name: cleanup
        type: http
        url: "{{ vars.base }}/echo"
        always_run: true
""",
        )
    )
    result = await engine.run(wf)
    assert result.status is ExecutionStatus.FAILED
    login, after, cleanup = result.steps
    assert login.status is StepStatus.FAILED
    failed = login.failed_assertion
    assert failed is not None
    assert failed.expected == "other@example.com"
    assert failed.actual == "demo@example.com"
    assert result.reason == (
        "login: json $.user.email: expected == 'other@example.com', got 'demo@example.com'"
    )
    assert after.status is StepStatus.SKIPPED
    assert cleanup.status is StepStatus.SUCCEEDED  # always_run cleanup still ran
    assert lab.hits["echo"] == 1


async def test_status_rules(lab: Lab, engine: Engine, workflows_from: WorkflowsFromText) -> None:
    cases = [
        # (path, expect status, passes)
        ("/status/500", None, False),  # no expectation: anything >= 400 fails
        ("/status/302", None, True),  # redirect without Location is below 400
        ("/status/204", "2xx", True),
        ("/status/404", [200, "400-404"], True),
        ("/status/201", 200, False),
    ]
    for path, expected, passes in cases:
        expect = "" if expected is None else f"expect: {{status: {expected!r}}}"
        [wf] = workflows_from(
            one(
                lab,
                f"""
      - name: s
        type: http
        url: "{{{{ vars.base }}}}{path}"
        {expect}
""",
            )
        )
        result = await engine.run(wf)
        assert (result.status is ExecutionStatus.SUCCEEDED) == passes, (path, result.reason)


async def test_missing_extraction_fails_the_step(
    lab: Lab, engine: Engine, workflows_from: WorkflowsFromText
) -> None:
    [wf] = workflows_from(
        one(
            lab,
            """
      - name: s
        type: http
        url: "{{ vars.base }}/json"
        extract:
          nope: {json: "$.nope"}
          fallback: {json: "$.nope", default: 5}
""",
        )
    )
    result = await engine.run(wf)
    assert result.status is ExecutionStatus.FAILED
    assert result.reason == "s: extract nope: json $.nope not found in the response"
    assert result.steps[0].extracted == {"fallback": 5}


async def test_body_over_the_cap_is_cut_and_marked(
    lab: Lab, engine: Engine, workflows_from: WorkflowsFromText
) -> None:
    [wf] = workflows_from(
        one(
            lab,
            """
      - name: big
        type: http
        url: "{{ vars.base }}/big?n=3000000"
        expect: {body: {contains: x}}
""",
            extra="    keep_responses: always",
        )
    )
    result = await engine.run(wf)
    step = result.steps[0]
    assert result.status is ExecutionStatus.SUCCEEDED
    assert step.body_truncated
    assert step.body_excerpt is not None
    assert len(step.body_excerpt) == 64 * 1024  # stored excerpt cap


async def test_json_on_a_truncated_body_says_why(
    lab: Lab, engine: Engine, workflows_from: WorkflowsFromText
) -> None:
    [wf] = workflows_from(
        one(
            lab,
            """
      - name: big
        type: http
        url: "{{ vars.base }}/big?n=5000"
        max_response_bytes: 1000
        expect: {json: {"$.a": 1}}
""",
        )
    )
    result = await engine.run(wf)
    assert result.status is ExecutionStatus.FAILED
    assert "truncated" in (result.reason or "")


async def test_redirects(lab: Lab, engine: Engine, workflows_from: WorkflowsFromText) -> None:
    [follow, capped, off, bad_scheme] = workflows_from(
        f"""
vars: {{base: "{lab.base_url}"}}
workflows:
  - name: follow
    schedule: {{every: 1m}}
    steps: [{{name: r, type: http, url: "{{{{ vars.base }}}}/redirect/3", expect: {{json: {{"$.ok": true}}}}}}]
  - name: capped
    schedule: {{every: 1m}}
    steps: [{{name: r, type: http, url: "{{{{ vars.base }}}}/redirect/4", max_redirects: 2}}]
  - name: 'off'
    schedule: {{every: 1m}}
    steps: [{{name: r, type: http, url: "{{{{ vars.base }}}}/redirect/1", follow_redirects: false, expect: {{status: 302}}}}]
  - name: bad_scheme
    schedule: {{every: 1m}}
    steps: [{{name: r, type: http, url: "{{{{ vars.base }}}}/redirect-to?to=file:///etc/passwd"}}]
"""
    )
    r = await engine.run(follow)
    assert r.status is ExecutionStatus.SUCCEEDED, r.reason
    assert len(r.steps[0].redirects) == 3
    r = await engine.run(capped)
    assert r.status is ExecutionStatus.ERROR
    assert "more than 2 redirects" in (r.reason or "")
    r = await engine.run(off)
    assert r.status is ExecutionStatus.SUCCEEDED, r.reason
    r = await engine.run(bad_scheme)
    assert r.status is ExecutionStatus.ERROR
    assert "only http(s) URLs" in (r.reason or "")


async def test_connection_refused_is_an_error(
    engine: Engine, workflows_from: WorkflowsFromText, unused_tcp_port: int
) -> None:
    [wf] = workflows_from(f"""
workflows:
  - name: down
    schedule: {{every: 1m}}
    steps: [{{name: s, type: http, url: "http://127.0.0.1:{unused_tcp_port}/"}}]
""")
    result = await engine.run(wf)
    assert result.status is ExecutionStatus.ERROR
    assert (result.reason or "").startswith("s: connection:")


async def test_cleanup_that_needs_a_missing_value_is_skipped_with_the_reason(
    lab: Lab, engine: Engine, workflows_from: WorkflowsFromText
) -> None:
    [wf] = workflows_from(
        one(
            lab,
            """
      - name: login
        type: http
        url: "{{ vars.base }}/status/503"
        extract: {token: {json: "$.token"}}
      - name: logout
        type: http
        url: "{{ vars.base }}/echo"
        headers: {Authorization: "Bearer {{ steps.login.token }}"}
        always_run: true
""",
        )
    )
    result = await engine.run(wf)
    assert result.status is ExecutionStatus.FAILED
    assert result.reason == "login: status: expected < 400, got 503"
    logout = result.steps[1]
    assert logout.status is StepStatus.SKIPPED
    assert (logout.error or "").startswith("not run: template")
    assert "echo" not in lab.hits  # it never reached the server


async def test_responses_are_kept_for_failures_only_by_default(
    lab: Lab, engine: Engine, workflows_from: WorkflowsFromText
) -> None:
    [wf] = workflows_from(
        one(
            lab,
            """
      - name: ok
        type: http
        url: "{{ vars.base }}/json"
      - name: bad
        type: http
        url: "{{ vars.base }}/status/500"
""",
        )
    )
    result = await engine.run(wf)
    ok, bad = result.steps
    assert ok.body_excerpt is None
    assert ok.response_headers == {}
    assert ok.response_status == 200  # the status and timings are always kept
    assert bad.body_excerpt == "status page"
    assert "Content-Type" in bad.response_headers


async def test_phase_timings_for_a_new_named_host_and_a_reused_connection(
    lab: Lab, engine: Engine, workflows_from: WorkflowsFromText
) -> None:
    [wf] = workflows_from(f"""
workflows:
  - name: timed
    schedule: {{every: 1m}}
    steps:
      - {{name: first, type: http, url: "http://localhost:{lab.port}/json"}}
      - {{name: again, type: http, url: "http://localhost:{lab.port}/json"}}
""")
    result = await engine.run(wf)
    first, again = (s.timings for s in result.steps)
    assert first.dns_ms is not None  # a name: looked up
    assert first.connect_ms is not None  # a new connection
    assert first.ttfb_ms is not None
    assert first.total_ms >= first.dns_ms + first.connect_ms + first.ttfb_ms - 0.5
    assert again.dns_ms is None  # the connection is reused: no lookup, no connect
    assert again.connect_ms is None
    assert again.ttfb_ms is not None

-- POST /auth/login/ with the benchmark user's credentials.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"benchuser","password":"Bench-Passw0rd!"}'

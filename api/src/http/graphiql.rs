//! The GraphiQL page (development; `STEPDOWN_GRAPHIQL`). Its scripts and
//! styles load from the unpkg CDN, so the browser needs the internet.
//!
//! Unlike the stock page, subscriptions are authenticated: the headers
//! editor starts with an `Authorization` line to fill in, and its value is
//! sent both as the HTTP header and as the `connection_init` payload of the
//! `graphql-transport-ws` socket (DESIGN §4).

/// The page, served at `GET /graphql` with `Accept: text/html`.
pub const PAGE: &str = r##"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="robots" content="noindex">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Stepdown GraphiQL</title>
    <style>body { height: 100%; margin: 0; overflow: hidden; } #graphiql { height: 100vh; }</style>
    <script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
    <script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
    <script crossorigin src="https://unpkg.com/graphql-ws@5.16.0/umd/graphql-ws.min.js"></script>
    <link rel="stylesheet" href="https://unpkg.com/graphiql@3.9.0/graphiql.min.css" />
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL from unpkg.com…</div>
    <script crossorigin src="https://unpkg.com/graphiql@3.9.0/graphiql.min.js"></script>
    <script>
      const PLACEHOLDER = "Bearer <paste accessToken from login here>";
      const httpUrl = new URL("/graphql", window.location.origin).toString();
      const wsUrl = (() => {
        const url = new URL("/graphql/ws", window.location.origin);
        url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
        return url.toString();
      })();
      // The Authorization header from the headers editor, unless it is
      // still the placeholder.
      const authorizationOf = (headers) => {
        const value = headers && (headers.Authorization || headers.authorization);
        return value && value !== PLACEHOLDER ? value : null;
      };
      const isSubscription = (params, opts) => {
        const ast = opts && opts.documentAST;
        if (!ast) return /^\s*subscription\b/.test(params.query || "");
        return ast.definitions.some((d) => d.kind === "OperationDefinition"
          && d.operation === "subscription"
          && (!params.operationName || (d.name && d.name.value === params.operationName)));
      };
      // One socket per token: changing the header signs the socket in anew.
      let socket = null, socketAuth = null;
      const socketFor = (authorization) => {
        if (!socket || socketAuth !== authorization) {
          if (socket) socket.dispose();
          socketAuth = authorization;
          socket = graphqlWs.createClient({
            url: wsUrl,
            connectionParams: authorization ? { authorization } : {},
          });
        }
        return socket;
      };
      const fetcher = (params, opts) => {
        const authorization = authorizationOf(opts && opts.headers);
        if (isSubscription(params, opts)) {
          return socketFor(authorization).iterate(params);
        }
        const headers = { "content-type": "application/json", accept: "application/json" };
        if (authorization) headers.authorization = authorization;
        return fetch(httpUrl, { method: "POST", headers, body: JSON.stringify(params) })
          .then((response) => response.json());
      };
      const defaultQuery = `# Stepdown GraphiQL
#
# 1. Sign in (run this), and copy accessToken from the answer:
mutation SignIn {
  login(input: { email: "rivera@demo.stepdown.test", password: "stepdown-demo-2026" }) {
    accessToken
    refreshToken
  }
}

# 2. Open "Headers" below and replace the placeholder with
#    "Authorization": "Bearer <the accessToken>"
#    It is sent with queries and as connection_init of subscriptions.
query Me {
  me { displayName roles }
}

subscription Alerts {
  alertRaised { id kind summary patient { id } }
}
`;
      ReactDOM.createRoot(document.getElementById("graphiql")).render(
        React.createElement(GraphiQL, {
          fetcher,
          defaultQuery,
          defaultHeaders: JSON.stringify({ Authorization: PLACEHOLDER }, null, 2),
          defaultEditorToolsVisibility: "headers",
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: false,
        })
      );
    </script>
  </body>
</html>
"##;

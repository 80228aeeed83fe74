"""The GraphiQL page served to browsers on ``GET /graphql``.

The page loads GraphiQL's published bundle from a CDN, so it needs the browser (not the
server) to reach the internet; the server itself serves only this one static page.
"""

GRAPHIQL_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>FraiseQL GraphiQL</title>
  <style>body { margin: 0; height: 100vh; }</style>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css">
</head>
<body>
  <div id="graphiql" style="height: 100vh">Loading GraphiQL&hellip;</div>
  <script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
    ReactDOM.createRoot(document.getElementById("graphiql"))
      .render(React.createElement(GraphiQL, { fetcher }));
  </script>
</body>
</html>
"""

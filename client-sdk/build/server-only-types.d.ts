// The two root types of the server's router that only the server reads: the request context procedures
// run with (services, database models, logger) and the meta that projects them to REST. The published
// AppRouter keeps every procedure's input, output and error shape and carries these as plain objects.
export type RequestContext = object;
export type AppMeta = object;

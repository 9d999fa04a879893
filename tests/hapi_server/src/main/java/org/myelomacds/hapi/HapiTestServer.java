package org.myelomacds.hapi;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.JpaSystemProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.ElementsSupportEnum;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.CustomRequestLog;
import org.eclipse.jetty.server.RequestLogWriter;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

/**
 * Runs a HAPI FHIR JPA server (R4, in-memory H2) at http://HOST:PORT/fhir.
 *
 * <pre>java -jar hapi-test-server.jar [--host 127.0.0.1] [--port 8080]
 *     [--default-page-size 20] [--max-page-size 500] [--access-log FILE]
 *     [--reuse-cached-search-ms 60000]</pre>
 *
 * Paging is HAPI's database-backed paging (next links are {@code ?_getpages=...}); the page
 * sizes default to the public HAPI test server's. The access log has one line per HTTP
 * request (NCSA format), so a test can count the round trips a client made. HAPI answers a
 * search repeated within a minute from the stored result of the first; the benchmark sets
 * {@code --reuse-cached-search-ms 0} so that every hook call pays for its searches.
 */
public final class HapiTestServer {

	private HapiTestServer() {}

	public static void main(String[] args) throws Exception {
		Options opts = Options.parse(args);

		AnnotationConfigApplicationContext spring = new AnnotationConfigApplicationContext(HapiJpaR4Config.class);
		RestfulServer fhir = restfulServer(spring, opts);

		Server jetty = new Server();
		ServerConnector connector = new ServerConnector(jetty);
		connector.setHost(opts.host);
		connector.setPort(opts.port);
		jetty.addConnector(connector);
		ServletContextHandler context = new ServletContextHandler();
		context.setContextPath("/");
		context.addServlet(new ServletHolder("fhir", fhir), "/fhir/*");
		jetty.setHandler(context);
		if (opts.accessLog != null) {
			jetty.setRequestLog(new CustomRequestLog(new RequestLogWriter(opts.accessLog), CustomRequestLog.NCSA_FORMAT));
		}
		jetty.setStopAtShutdown(true);
		Runtime.getRuntime().addShutdownHook(new Thread(spring::close, "spring-close"));
		jetty.start();
		System.out.println("HAPI FHIR R4 server ready at http://" + opts.host + ":" + connector.getLocalPort() + "/fhir"
				+ " (default page size " + opts.defaultPageSize + ", max " + opts.maxPageSize + ")");
		jetty.join();
	}

	static RestfulServer restfulServer(AnnotationConfigApplicationContext spring, Options opts) {
		FhirContext ctx = spring.getBean(FhirContext.class);
		RestfulServer server = new RestfulServer(ctx);
		server.registerProviders(spring.getBean(ResourceProviderFactory.class).createProviders());
		server.registerProvider(spring.getBean(JpaSystemProvider.class));
		IFhirSystemDao<?, ?> systemDao = spring.getBean(IFhirSystemDao.class);
		server.setServerConformanceProvider(new JpaCapabilityStatementProvider(
				server, systemDao, spring.getBean(JpaStorageSettings.class),
				spring.getBean(ISearchParamRegistry.class), spring.getBean(IValidationSupport.class)));

		if (opts.reuseCachedSearchMs != null) {
			spring.getBean(JpaStorageSettings.class)
					.setReuseCachedSearchResultsForMillis(opts.reuseCachedSearchMs > 0 ? opts.reuseCachedSearchMs : null);
		}

		DatabaseBackedPagingProvider paging = spring.getBean(DatabaseBackedPagingProvider.class);
		paging.setDefaultPageSize(opts.defaultPageSize);
		paging.setMaximumPageSize(opts.maxPageSize);
		server.setPagingProvider(paging);

		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		server.setElementsSupport(ElementsSupportEnum.EXTENDED);
		return server;
	}

	static final class Options {
		String host = "127.0.0.1";
		int port = 8080;
		int defaultPageSize = 20;
		int maxPageSize = 500;
		String accessLog;
		Long reuseCachedSearchMs; // null: HAPI's default (60 s); 0: never reuse

		static Options parse(String[] args) {
			Options o = new Options();
			for (int i = 0; i < args.length; i++) {
				String value = i + 1 < args.length ? args[i + 1] : null;
				switch (args[i]) {
					case "--host" -> o.host = value;
					case "--port" -> o.port = Integer.parseInt(value);
					case "--default-page-size" -> o.defaultPageSize = Integer.parseInt(value);
					case "--max-page-size" -> o.maxPageSize = Integer.parseInt(value);
					case "--access-log" -> o.accessLog = value;
					case "--reuse-cached-search-ms" -> o.reuseCachedSearchMs = Long.parseLong(value);
					default -> throw new IllegalArgumentException("unknown option " + args[i]);
				}
				i++;
			}
			return o;
		}
	}
}

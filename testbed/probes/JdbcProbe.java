// JdbcProbe connects as Airbyte's Java services do: pgjdbc (the version
// Airbyte ships) with the JDBC URL, user and password of the service's
// environment (DATABASE_URL, DATABASE_USER, DATABASE_PASSWORD, as the
// chart renders them), runs each SQL statement given, and prints each
// result's first column, one line each. A failure prints the driver's
// message on stderr and exits 1.
//
//	java -cp postgresql.jar JdbcProbe.java "SELECT current_user" ...
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

public class JdbcProbe {
  public static void main(String[] args) {
    String url = System.getenv("DATABASE_URL");
    try (Connection c = DriverManager.getConnection(url, System.getenv("DATABASE_USER"), System.getenv("DATABASE_PASSWORD"))) {
      for (String sql : args) {
        try (Statement s = c.createStatement()) {
          if (s.execute(sql)) {
            try (ResultSet r = s.getResultSet()) {
              while (r.next()) {
                System.out.println(r.getString(1));
              }
            }
          } else {
            System.out.println("OK");
          }
        }
      }
    } catch (Exception e) {
      System.err.println("JDBC " + url + ": " + e.getMessage());
      System.exit(1);
    }
  }
}
